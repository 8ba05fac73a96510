"""The invoker: one invocation batch → ToFunction → transport → InvocationResponse.

It attaches every registered state value (honouring TTL), handles IncompleteInvocationContext by
registering the missing specs and re-sending the same batch, and turns every way a call can fail
into an `AddressFailure` carrying a reason an operator can act on.

Each round has two steps: `touch_states` does the TTL bookkeeping a request implies (the only
store writes), then `build_request` serializes the request, a pure function of its inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from google.protobuf.message import DecodeError
from statefun.request_reply_pb2 import FromFunction, ToFunction

from baton.module.specs import EndpointSpec, TypeName
from baton.runtime.address import Address
from baton.runtime.clock import SYSTEM_CLOCK, Clock
from baton.runtime.messages import Message
from baton.runtime.metrics import FunctionMetrics, Metrics
from baton.runtime.state_registry import ExpireMode, StateRegistry, StateTypeMismatch, ValueSpec
from baton.runtime.store import Store, StoredValue
from baton.runtime.transports import TransportError, TransportFactory

log = logging.getLogger(__name__)

InvocationResponse = FromFunction.InvocationResponse


class AddressFailure(Exception):
    """This address cannot make progress; park it with this reason."""


class CallFailed(AddressFailure):
    """The call itself failed for good (past the transport's budget, or an unreadable reply):
    what an endpoint's `failureMode: DROP` skips, as the fork does on a failed async result."""


class _Route(NamedTuple):
    endpoint: EndpointSpec
    function_type: TypeName
    target: str  # the URL or Lambda function the endpoint gives the type
    metrics: FunctionMetrics


class Invoker:
    """Calls a remote function with one batch and returns its (complete) response."""

    # StateFun loops forever on IncompleteInvocationContext; a stuck SDK gets parked instead.
    MAX_INCOMPLETE_ROUNDS = 8

    def __init__(
        self,
        store: Store,
        registry: StateRegistry,
        metrics: Metrics,
        *,
        clock: Clock = SYSTEM_CLOCK,
        transports: TransportFactory | None = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self._metrics = metrics
        self._clock = clock
        self.transports = transports if transports is not None else TransportFactory()
        # Per (namespace, type): what every call to it needs, found once (not per call).
        self._routes: dict[tuple[str, str], _Route] = {}

    def _route(self, address: Address, endpoint: EndpointSpec) -> _Route:
        route = self._routes.get((address.namespace, address.type))
        if route is None or route.endpoint is not endpoint:
            function_type = address.function_type
            route = self._routes[(address.namespace, address.type)] = _Route(
                endpoint, function_type, endpoint.url_for(function_type),
                self._metrics.of(function_type),
            )
        return route

    async def invoke(
        self, address: Address, endpoint: EndpointSpec, batch: list[Message]
    ) -> FromFunction.InvocationResponse:
        """Send `batch` to `address` until the function answers with a complete response."""
        route = self._route(address, endpoint)
        function_type, target, metrics = route.function_type, route.target, route.metrics
        transport = self.transports.get(endpoint)
        for _ in range(self.MAX_INCOMPLETE_ROUNDS):
            now = self._clock.now()
            specs = self._registry.specs(function_type)
            states = touch_states(self._store, address, specs, now)
            body = build_request(address, batch, states, specs, now)
            metrics.requests += 1
            try:
                reply = await transport.call(target, body, metrics.count_failed_attempt)
            except TransportError as error:
                raise CallFailed(f"calling {target} failed: {error}") from None
            try:
                response = FromFunction.FromString(reply)
            except DecodeError as error:
                raise CallFailed(
                    f"{target} replied with a body that is not a FromFunction ({error}); "
                    "is it a StateFun SDK endpoint?"
                ) from None
            if response.WhichOneof("response") != "incomplete_invocation_context":
                if log.isEnabledFor(logging.DEBUG):  # -vv: one line per batch
                    result = response.invocation_result
                    log.debug(
                        "invoked %s: batch of %d -> %d state change(s), %d message(s), "
                        "%d delayed, %d egress", address, len(batch), len(result.state_mutations),
                        len(result.outgoing_messages), len(result.delayed_invocations),
                        len(result.outgoing_egresses),
                    )
                return response.invocation_result
            try:
                self._registry.register(
                    function_type, response.incomplete_invocation_context.missing_values
                )
            except StateTypeMismatch as error:
                raise AddressFailure(str(error)) from None
        raise AddressFailure(
            f"{target} kept answering IncompleteInvocationContext after "
            f"{self.MAX_INCOMPLETE_ROUNDS} rounds; check the function's state declarations"
        )

    async def close(self) -> None:
        """Close connection pools and Lambda worker threads."""
        await self.transports.close()


def touch_states(
    store: Store, address: Address, specs: Mapping[str, ValueSpec], now: float
) -> dict[str, StoredValue]:
    """The TTL bookkeeping of sending a request at `now`; returns the values it will carry.

    Expired values are deleted (and not sent). Every request reads every registered state, so
    AFTER_INVOKE values get their expiry refreshed each time (statefun-reference §2.6).
    """
    values = store.states(address)
    live: dict[str, StoredValue] = {}
    for name, spec in specs.items():
        stored = values.get(name)
        if stored is None:
            continue
        if stored.expired(now):
            store.put_state(address, name, None)
            continue
        if spec.expire_mode is ExpireMode.AFTER_INVOKE and spec.ttl_seconds:
            stored = StoredValue(stored.typename, stored.value, now + spec.ttl_seconds)
            store.put_state(address, name, stored)
        live[name] = stored
    return live


def build_request(
    address: Address,
    batch: Sequence[Message],
    states: Mapping[str, StoredValue],
    specs: Mapping[str, ValueSpec],
    now: float,
) -> bytes:
    """A serialized ToFunction: every registered state (a value only if stored and not expired
    at `now`) and the batch. Pure: reads nothing else and writes nothing."""
    request = ToFunction()
    invocation = request.invocation
    target = invocation.target
    target.namespace, target.type, target.id = address
    for name in specs:
        persisted = invocation.state.add()
        persisted.state_name = name
        stored = states.get(name)
        if stored is None or stored.expired(now):
            continue
        typed = persisted.state_value
        typed.typename = stored.typename
        typed.has_value = True
        typed.value = stored.value
    for message in batch:
        entry = invocation.invocations.add()
        caller = message.caller
        if caller is not None:
            pb = entry.caller
            pb.namespace, pb.type, pb.id = caller
        argument = entry.argument
        argument.typename = message.typename
        if message.value is not None:
            argument.has_value = True
            argument.value = message.value
    return request.SerializeToString()
