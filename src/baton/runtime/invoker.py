"""The invoker: one invocation batch → ToFunction → transport → InvocationResponse.

It attaches every registered state value (honouring TTL), handles IncompleteInvocationContext by
registering the missing specs and re-sending the same batch, and turns every way a call can fail
into an `AddressFailure` carrying a reason an operator can act on.
"""

from __future__ import annotations

import time

from google.protobuf.message import DecodeError
from statefun.request_reply_pb2 import FromFunction, ToFunction

from baton.module.specs import EndpointSpec, HttpEndpointSpec
from baton.runtime.address import Address
from baton.runtime.messages import Message
from baton.runtime.metrics import Metrics
from baton.runtime.state_registry import ExpireMode, StateRegistry, StateTypeMismatch
from baton.runtime.store import Store, StoredValue
from baton.runtime.lambda_invoke import LambdaInvoker
from baton.runtime.transport import HttpTransport, TransportError

InvocationResponse = FromFunction.InvocationResponse


class AddressFailure(Exception):
    """This address cannot make progress; park it with this reason."""


class Invoker:
    """Calls a remote function with one batch and returns its (complete) response."""

    # StateFun loops forever on IncompleteInvocationContext; a stuck SDK gets parked instead.
    MAX_INCOMPLETE_ROUNDS = 8

    def __init__(
        self, store: Store, registry: StateRegistry, transport: HttpTransport, metrics: Metrics
    ) -> None:
        self._store = store
        self._registry = registry
        self._transport = transport
        self._lambda: LambdaInvoker | None = None  # created on first use (boto3 is slow to load)
        self._metrics = metrics

    async def invoke(
        self, address: Address, endpoint: EndpointSpec, batch: list[Message]
    ) -> InvocationResponse:
        """Send `batch` to `address` until the function answers with a complete response."""
        function_type = address.function_type
        url = endpoint.url_for(function_type)
        metrics = self._metrics.of(function_type)
        for _ in range(self.MAX_INCOMPLETE_ROUNDS):
            body = self._request(address, batch)
            metrics.requests += 1
            try:
                if isinstance(endpoint, HttpEndpointSpec):
                    reply = await self._transport.call(
                        url, endpoint.transport, body, metrics.count_failed_attempt
                    )
                else:
                    if self._lambda is None:
                        self._lambda = LambdaInvoker()
                    reply = await self._lambda.call(endpoint, url, body, metrics.count_failed_attempt)
            except TransportError as error:
                raise AddressFailure(f"calling {url} failed: {error}") from None
            try:
                response = FromFunction.FromString(reply)
            except DecodeError as error:
                raise AddressFailure(
                    f"{url} replied with a body that is not a FromFunction ({error}); "
                    "is it a StateFun SDK endpoint?"
                ) from None
            if response.WhichOneof("response") != "incomplete_invocation_context":
                return response.invocation_result
            try:
                self._registry.register(
                    function_type, response.incomplete_invocation_context.missing_values
                )
            except StateTypeMismatch as error:
                raise AddressFailure(str(error)) from None
        raise AddressFailure(
            f"{url} kept answering IncompleteInvocationContext after "
            f"{self.MAX_INCOMPLETE_ROUNDS} rounds; check the function's state declarations"
        )

    async def close(self) -> None:
        """Close connection pools and Lambda worker threads."""
        await self._transport.close()
        if self._lambda is not None:
            self._lambda.close()

    def _request(self, address: Address, batch: list[Message]) -> bytes:
        """Serialize a ToFunction carrying every registered state and the batch."""
        now = time.time()
        request = ToFunction()
        invocation = request.invocation
        target = invocation.target
        target.namespace, target.type, target.id = address
        values = self._store.states(address)
        for name, spec in self._registry.specs(address.function_type).items():
            persisted = invocation.state.add()
            persisted.state_name = name
            stored = values.get(name)
            if stored is None:
                continue
            if stored.expired(now):
                self._store.put_state(address, name, None)
                continue
            if spec.expire_mode is ExpireMode.AFTER_INVOKE and spec.ttl_seconds:
                # Every request reads every state, so AFTER_INVOKE refreshes them all (§2.6).
                self._store.put_state(
                    address, name, StoredValue(stored.typename, stored.value, now + spec.ttl_seconds)
                )
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
