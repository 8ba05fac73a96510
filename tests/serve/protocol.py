"""Building StateFun request-reply messages for the tests (with the SDK's generated protobufs)."""

from __future__ import annotations

from statefun.request_reply_pb2 import FromFunction, ToFunction, TypedValue
from statefun.types_pb2 import IntWrapper

INT = "io.statefun.types/int"


def int_value(value: int) -> TypedValue:
    return TypedValue(typename=INT, has_value=True, value=IntWrapper(value=value).SerializeToString())


def to_function(
    typename: str, id: str, *arguments: int, state: dict[str, int | None] | None = None
) -> bytes:
    """A serialized ToFunction batch for `typename`/`id` with int arguments and given state
    (None declares the state with no value, as the runtime does for unset state)."""
    namespace, name = typename.split("/")
    request = ToFunction()
    batch = request.invocation
    batch.target.namespace, batch.target.type, batch.target.id = namespace, name, id
    for state_name, value in (state or {}).items():
        persisted = batch.state.add(state_name=state_name)
        persisted.state_value.CopyFrom(
            int_value(value) if value is not None else TypedValue(typename=INT, has_value=False)
        )
    for argument in arguments:
        batch.invocations.add().argument.CopyFrom(int_value(argument))
    return request.SerializeToString()


def from_function(body: bytes) -> FromFunction:
    reply = FromFunction()
    reply.ParseFromString(body)
    return reply


def missing_state(reply: FromFunction) -> list[tuple[str, str]]:
    """(state name, type) the function asked for in an IncompleteInvocationContext."""
    assert reply.WhichOneof("response") == "incomplete_invocation_context", reply
    return [(m.state_name, m.type_typename) for m in reply.incomplete_invocation_context.missing_values]


def modified_ints(reply: FromFunction) -> dict[str, int]:
    """State name -> new int value for every MODIFY mutation in an InvocationResponse."""
    assert reply.WhichOneof("response") == "invocation_result", reply
    result = {}
    for mutation in reply.invocation_result.state_mutations:
        assert mutation.mutation_type == FromFunction.PersistedValueMutation.MODIFY, mutation
        assert mutation.state_value.typename == INT
        result[mutation.state_name] = IntWrapper.FromString(mutation.state_value.value).value
    return result
