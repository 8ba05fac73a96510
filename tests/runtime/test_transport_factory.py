"""The transport factory: which transport an endpoint gets, and how many are made."""

from __future__ import annotations

from baton.module.specs import (
    AsyncTransportSpec,
    HttpEndpointSpec,
    LambdaEndpointSpec,
    LambdaUrlTransportSpec,
    OkHttpTransportSpec,
    TargetFunctions,
)
from baton.runtime.transports import TransportFactory
from baton.runtime.transports.http import HttpTransport
from baton.runtime.transports.lambda_invoke import LambdaInvokeTransport
from baton.runtime.transports.lambda_url import LambdaUrlTransport


def http(namespace: str, transport=None) -> HttpEndpointSpec:
    spec = transport if transport is not None else AsyncTransportSpec()
    return HttpEndpointSpec(TargetFunctions(namespace, None), "http://f/{function.name}", transport=spec)


def direct(namespace: str) -> LambdaEndpointSpec:
    return LambdaEndpointSpec(TargetFunctions(namespace, None), "fn-{function.name}")


async def test_one_transport_per_transport_spec_or_lambda_endpoint():
    factory = TransportFactory()

    a, b = factory.get(http("a")), factory.get(http("b"))
    okhttp = factory.get(http("c", OkHttpTransportSpec()))
    signed = factory.get(http("d", LambdaUrlTransportSpec(region="eu-west-1")))
    lambda_a, lambda_b = factory.get(direct("a")), factory.get(direct("b"))

    assert isinstance(a, HttpTransport) and a is b  # equal specs share one connection pool
    assert isinstance(okhttp, HttpTransport) and okhttp is not a
    assert isinstance(signed, LambdaUrlTransport)
    assert isinstance(lambda_a, LambdaInvokeTransport) and lambda_a is not lambda_b
    assert factory.get(direct("a")) is lambda_a
    await factory.close()


async def test_a_chosen_transport_wins_and_is_closed_with_the_factory():
    closed: list[str] = []

    class Recording:
        async def call(self, target, body, on_failed_attempt=None) -> bytes:
            return b""

        async def close(self) -> None:
            closed.append("recording")

    factory, chosen = TransportFactory(), Recording()
    factory.use(http("a"), chosen)

    assert factory.get(http("a")) is chosen
    assert isinstance(factory.get(http("b")), HttpTransport)
    await factory.close()
    assert closed == ["recording"]
