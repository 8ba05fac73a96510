"""The in-process transport (official SDK handler called directly) and the invoker's two steps:
`touch_states` (TTL bookkeeping) then `build_request` (pure serialization)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from statefun import IntType, StatefulFunctions, ValueSpec
from statefun.request_reply_pb2 import FromFunction, ToFunction

from baton.module.specs import HttpEndpointSpec, TargetFunctions
from baton.runtime.address import Address
from baton.runtime.invoker import AddressFailure, Invoker, build_request, touch_states
from baton.runtime.messages import Message
from baton.runtime.metrics import Metrics
from baton.runtime.state_registry import ExpireMode, StateRegistry
from baton.runtime.state_registry import ValueSpec as RegisteredSpec
from baton.runtime.store import MemoryStore, StoredValue
from baton.runtime.transports import TransportError, TransportFactory
from baton.runtime.transports.in_process import InProcessTransport

COUNTER = Address("example", "counter", "c1")
INT = IntType.serializer()
TTL = timedelta(minutes=1)
# Never called over HTTP: the factory is told to use the in-process transport for it.
ENDPOINT = HttpEndpointSpec(TargetFunctions("example", None), "http://unused/{function.name}")


class ManualClock:
    """A clock the test sets itself."""

    def __init__(self, now: float) -> None:
        self.time = now

    def now(self) -> float:
        return self.time

    async def wait_until(self, when: float | None, wake: asyncio.Event) -> None:
        await wake.wait()


def counter_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/counter", specs=[ValueSpec("count", IntType, expire_after_call=TTL)])
    async def counter(context, message):
        if message.as_int() < 0:
            raise RuntimeError("negative increment")
        context.storage.count = (context.storage.count or 0) + message.as_int()

    return functions


def increment(by: int) -> Message:
    return Message(COUNTER, None, "io.statefun.types/int", INT.serialize(by))


def invoker_on(functions: StatefulFunctions, clock: ManualClock) -> tuple[Invoker, MemoryStore, Metrics]:
    store, metrics = MemoryStore(), Metrics()
    transports = TransportFactory()
    transports.use(ENDPOINT, InProcessTransport(functions))
    return Invoker(store, StateRegistry(), metrics, clock=clock, transports=transports), store, metrics


def count_mutation(result: FromFunction.InvocationResponse) -> int:
    [mutation] = result.state_mutations
    assert mutation.state_name == "count"
    return INT.deserialize(mutation.state_value.value)


async def test_the_sdk_handler_answers_without_http():
    transport = InProcessTransport(counter_functions())
    request = build_request(COUNTER, [increment(1)], states={}, specs={}, now=0.0)

    reply = FromFunction.FromString(await transport.call("example/counter", request))

    missing = reply.incomplete_invocation_context.missing_values
    assert [(spec.state_name, spec.type_typename) for spec in missing] == [
        ("count", "io.statefun.types/int")
    ]
    assert missing[0].expiration_spec.mode == ExpireMode.AFTER_INVOKE
    await transport.close()


async def test_the_invoker_registers_states_and_sends_stored_values_in_process():
    clock = ManualClock(1_000.0)
    invoker, store, metrics = invoker_on(counter_functions(), clock)

    first = await invoker.invoke(COUNTER, ENDPOINT, [increment(2)])
    assert count_mutation(first) == 2
    assert metrics.of(COUNTER.function_type).requests == 2  # IncompleteInvocationContext, then the call

    store.put_state(COUNTER, "count", StoredValue("io.statefun.types/int", INT.serialize(2)))
    second = await invoker.invoke(COUNTER, ENDPOINT, [increment(3)])
    assert count_mutation(second) == 5
    assert metrics.of(COUNTER.function_type).requests == 3
    # Sending it refreshed the AFTER_INVOKE expiry from the invoker's clock.
    assert store.states(COUNTER)["count"].expires_at == 1_000.0 + TTL.total_seconds()
    await invoker.close()


async def test_a_raising_function_fails_the_call_at_once():
    reasons: list[str] = []
    transport = InProcessTransport(counter_functions())
    specs = {"count": RegisteredSpec("count", "io.statefun.types/int")}
    request = build_request(COUNTER, [increment(-1)], states={}, specs=specs, now=0.0)

    with pytest.raises(TransportError, match="RuntimeError: negative increment"):
        await transport.call("example/counter", request, reasons.append)
    assert reasons == ["RuntimeError: negative increment"]

    invoker, _, metrics = invoker_on(counter_functions(), ManualClock(0.0))
    with pytest.raises(AddressFailure, match="the in-process function failed: RuntimeError"):
        await invoker.invoke(COUNTER, ENDPOINT, [increment(-1)])
    assert metrics.of(COUNTER.function_type).invocation_failures == 1


def test_touch_states_deletes_expired_values_and_refreshes_after_invoke_ones():
    store = MemoryStore()
    specs = {
        "session": RegisteredSpec("session", "t/s", ExpireMode.AFTER_INVOKE, 60_000),
        "token": RegisteredSpec("token", "t/t", ExpireMode.AFTER_WRITE, 60_000),
        "plain": RegisteredSpec("plain", "t/p"),
    }
    store.put_state(COUNTER, "session", StoredValue("t/s", b"s", expires_at=110.0))
    store.put_state(COUNTER, "token", StoredValue("t/t", b"t", expires_at=100.0))  # expired at 100
    store.put_state(COUNTER, "plain", StoredValue("t/p", b"p"))
    store.put_state(COUNTER, "undeclared", StoredValue("t/u", b"u"))

    live = touch_states(store, COUNTER, specs, now=100.0)

    assert live == {
        "session": StoredValue("t/s", b"s", expires_at=160.0),
        "plain": StoredValue("t/p", b"p"),
    }
    assert store.states(COUNTER) == {**live, "undeclared": StoredValue("t/u", b"u")}


def test_build_request_is_pure_and_leaves_out_values_expired_at_now():
    specs = {name: RegisteredSpec(name, f"t/{name}") for name in "abc"}
    states = {"a": StoredValue("t/a", b"a"), "b": StoredValue("t/b", b"b", expires_at=5.0)}

    body = build_request(COUNTER, [increment(1)], states, specs, now=5.0)

    invocation = ToFunction.FromString(body).invocation
    assert (invocation.target.namespace, invocation.target.type, invocation.target.id) == COUNTER
    sent = {s.state_name: (s.state_value.has_value, s.state_value.value) for s in invocation.state}
    assert sent == {"a": (True, b"a"), "b": (False, b""), "c": (False, b"")}
    assert [INT.deserialize(i.argument.value) for i in invocation.invocations] == [1]
    assert states["b"] == StoredValue("t/b", b"b", expires_at=5.0)  # untouched
