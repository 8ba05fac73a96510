"""Which transport an endpoint uses: one instance per endpoint or transport spec, made lazily.

- an HTTP endpoint with an okhttp or async transport: `HttpTransport`, one per transport spec
  (endpoints with equal specs share a connection pool);
- an HTTP endpoint with `baton.transports.v1/lambda-url`: `LambdaUrlTransport`, one per spec,
  all signing with one `AwsSigner` (credentials are resolved once);
- a `baton.endpoints.v1/lambda` endpoint: `LambdaInvokeTransport`, one per endpoint, all on one
  `LambdaInvoker` (one thread pool bounds every direct invocation).

The AWS transports are imported on first use: boto3 is slow to load and most modules never
need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from baton.module.specs import (
    EndpointSpec,
    HttpEndpointSpec,
    LambdaEndpointSpec,
    LambdaUrlTransportSpec,
    TransportSpec,
)
from baton.runtime.transports.base import Transport
from baton.runtime.transports.http import HttpTransport

if TYPE_CHECKING:
    from baton.aws.signing import AwsSigner
    from baton.runtime.transports.lambda_invoke import LambdaInvoker


class TransportFactory:
    """Owns every transport it made (and what they share); `close()` releases them all."""

    def __init__(self) -> None:
        self._transports: dict[EndpointSpec | TransportSpec, Transport] = {}
        self._chosen: dict[EndpointSpec, Transport] = {}
        # By identity: hashing a frozen spec (every field, nested) cost more than a call's
        # request building. An entry holds its endpoint, so the id cannot be reused meanwhile.
        self._by_id: dict[int, tuple[EndpointSpec, Transport]] = {}
        self._signer: AwsSigner | None = None
        self._lambda: LambdaInvoker | None = None

    def use(self, endpoint: EndpointSpec, transport: Transport) -> None:
        """Send `endpoint`'s calls through `transport` (e.g. an in-process one); closed with us."""
        self._chosen[endpoint] = transport
        self._by_id.clear()

    def get(self, endpoint: EndpointSpec) -> Transport:
        """The transport for `endpoint`, created on first use."""
        known = self._by_id.get(id(endpoint))
        if known is not None and known[0] is endpoint:
            return known[1]
        transport = self._find(endpoint)
        self._by_id[id(endpoint)] = (endpoint, transport)
        return transport

    def _find(self, endpoint: EndpointSpec) -> Transport:
        chosen = self._chosen.get(endpoint)
        if chosen is not None:
            return chosen
        key: EndpointSpec | TransportSpec = (
            endpoint.transport if isinstance(endpoint, HttpEndpointSpec) else endpoint
        )
        transport = self._transports.get(key)
        if transport is None:
            transport = self._transports[key] = self._create(endpoint)
        return transport

    def _create(self, endpoint: EndpointSpec) -> Transport:
        if isinstance(endpoint, LambdaEndpointSpec):
            from baton.runtime.transports.lambda_invoke import LambdaInvoker, LambdaInvokeTransport

            if self._lambda is None:
                self._lambda = LambdaInvoker()
            return LambdaInvokeTransport(endpoint, self._lambda)
        spec = endpoint.transport
        if isinstance(spec, LambdaUrlTransportSpec):
            from baton.aws.signing import AwsSigner
            from baton.runtime.transports.lambda_url import LambdaUrlTransport

            if self._signer is None:
                self._signer = AwsSigner()
            return LambdaUrlTransport(spec, self._signer)
        return HttpTransport(spec)

    async def close(self) -> None:
        """Close connection pools and stop the Lambda worker threads."""
        for transport in [*self._transports.values(), *self._chosen.values()]:
            await transport.close()
        self._transports.clear()
        self._chosen.clear()
        self._by_id.clear()
        if self._lambda is not None:
            self._lambda.close()
            self._lambda = None
