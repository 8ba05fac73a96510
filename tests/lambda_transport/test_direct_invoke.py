"""`baton.endpoints.v1/lambda`: batches sent with Lambda's Invoke API through boto3.

AWS is played by a loopback double of the Invoke route (`invoke_api.InvokeApi`, answering like
AWS and running real SDK handlers) and by moto in server mode.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from statefun.request_reply_pb2 import FromFunction, ToFunction

from baton.aws.arns import region_of as region_from_arn
from baton.module.specs import LambdaEndpointSpec, TargetFunctions
from baton.runtime.transports.base import TransportError
from baton.runtime.transports.lambda_invoke import LambdaInvoker
from tests.aws_support import reset_moto
from tests.conftest import serve_app
from tests.lambda_transport.conftest import ACCESS_KEY
from tests.lambda_transport.functions import (
    PLAYGROUND,
    assert_counter_flow,
    counter_functions,
    parked_reason,
)
from tests.lambda_transport.invoke_api import (
    ACCESS_DENIED,
    INVALID_PARAMETER,
    PROXY_500,
    SERVICE_ERROR,
    THROTTLED,
    UNHANDLED,
    WRONG_CONTENT_TYPE,
    InvokeApi,
)


@pytest.fixture
async def invoke_api():
    """Start an Invoke API double; returns (api, endpoint URL)."""
    runners = []

    async def start(*fail_next: tuple) -> tuple[InvokeApi, str]:
        api = InvokeApi(counter_functions(), fail_next=list(fail_next))
        runner, url = await serve_app(api.app())
        runners.append(runner)
        return api, url

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
def moto_server(moto_url: str) -> str:
    """The session's moto server, emptied of what earlier tests made."""
    reset_moto(moto_url)
    return moto_url


def module(
    endpoint_url: str | None,
    function_name: str = "fn-{function.name}",
    call: str = "5s",
    extra: str = "",
) -> str:
    url = f"  endpointUrl: {endpoint_url}\n" if endpoint_url else ""
    return (
        "kind: baton.endpoints.v1/lambda\nspec:\n  functions: example/*\n"
        f"  functionName: {function_name}\n{url}  call: {call}\n{extra}{PLAYGROUND}"
    )


async def failures(app, function_type: str = "example/counter") -> int:
    return (await app.admin_get("/metrics.json"))["functions"][function_type]["invocation_failures"]


async def test_direct_invoke_completes_a_counter_flow(invoke_api, start_app):
    api, url = await invoke_api()
    app = await start_app(module(url, extra="  qualifier: live\n"))

    await assert_counter_flow(app)

    assert {i.function_name for i in api.invocations} == {"fn-counter", "fn-reporter"}
    assert {i.qualifier for i in api.invocations} == {"live"}
    assert {i.answered for i in api.invocations} == {200}
    for invocation in api.invocations:  # signed by boto3 with the AWS chain's credentials
        assert invocation.authorization.startswith(
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"
        )
        assert "/us-east-1/lambda/aws4_request" in invocation.authorization
    assert await failures(app) == 0


async def test_throttling_and_failed_attempts_are_retried_within_the_budget(invoke_api, start_app):
    api, url = await invoke_api(
        THROTTLED, THROTTLED, UNHANDLED, SERVICE_ERROR, PROXY_500, WRONG_CONTENT_TYPE
    )
    app = await start_app(module(url))

    await assert_counter_flow(app)

    assert [i.answered for i in api.invocations[:6]] == [429, 429, 200, 500, 200, 200]
    assert await failures(app) == 6  # all on the first call, to example/counter
    assert await failures(app, "example/reporter") == 0


def _to_function(function_type: str = "example/counter") -> bytes:
    request = ToFunction()
    target = request.invocation.target
    target.namespace, target.type = function_type.split("/")
    target.id = "c1"
    argument = request.invocation.invocations.add().argument
    argument.typename = "example/Json"
    argument.has_value = True
    argument.value = b"{}"
    return request.SerializeToString()


def _endpoint(url: str, call: timedelta = timedelta(seconds=5)) -> LambdaEndpointSpec:
    return LambdaEndpointSpec(
        TargetFunctions("example", None), "fn-{function.name}", endpoint_url=url, call=call
    )


async def test_each_failed_attempt_reports_why(invoke_api):
    api, url = await invoke_api(
        THROTTLED, UNHANDLED, SERVICE_ERROR, PROXY_500, WRONG_CONTENT_TYPE
    )
    reasons: list[str] = []
    invoker = LambdaInvoker()
    try:
        reply = await invoker.call(_endpoint(url), "fn-counter", _to_function(), reasons.append)
    finally:
        invoker.close()

    response = FromFunction.FromString(reply)
    assert response.WhichOneof("response") == "incomplete_invocation_context"  # the SDK's answer
    assert len(reasons) == 5
    throttled, unhandled, service, proxy, content_type = reasons
    assert "TooManyRequestsException (HTTP 429): Rate Exceeded." in throttled
    assert "ReservedFunctionConcurrentInvocationLimitExceeded" in throttled
    assert "the function failed (Unhandled): RuntimeError: boom" in unhandled
    assert "ServiceException (HTTP 500): Lambda is unwell" in service
    assert proxy == "HTTP 500: KeyError: 'count'"
    assert "wrong content type 'application/json'" in content_type
    assert len(api.invocations) == 6


async def test_persistent_throttling_parks_after_the_call_budget(invoke_api, start_app):
    api, url = await invoke_api(*[THROTTLED] * 10_000)
    app = await start_app(module(url, call="1s"))
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")
    assert "fn-counter failed: gave up after" in reason
    assert "within the call timeout of 1s" in reason
    assert "TooManyRequestsException" in reason
    assert len(api.invocations) >= 2
    assert (await app.admin_get("/state/example/counter/c1"))["backlog"] == 1  # kept


@pytest.mark.parametrize(
    ("failure", "fragments"),
    [
        (ACCESS_DENIED, ["access to Lambda function fn-counter in us-east-1 was denied",
                         "AccessDeniedException (HTTP 403)", "lambda:InvokeFunction"]),
        (INVALID_PARAMETER, ["Lambda rejected the Invoke of fn-counter in us-east-1",
                             "InvalidParameterValueException (HTTP 400): Unsupported qualifier"]),
    ],
    ids=["access-denied", "invalid-parameter"],
)
async def test_non_retriable_errors_park_at_once(invoke_api, start_app, failure, fragments):
    api, url = await invoke_api(failure)
    app = await start_app(module(url, call="10min"))
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")  # long before the 10 min budget
    for fragment in fragments:
        assert fragment in reason
    assert len(api.invocations) == 1
    assert await failures(app) == 0


async def test_an_unknown_function_parks_with_resource_not_found(moto_server, start_app):
    app = await start_app(
        module(moto_server, function_name="missing-{function.name}", call="10min")
    )
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")
    assert "Lambda function missing-counter in us-east-1 does not exist" in reason
    assert "ResourceNotFoundException (HTTP 404)" in reason
    assert "Deploy it, or fix `functionName`" in reason
    assert await failures(app) == 0  # not retried


async def test_connection_errors_are_retried_until_the_budget(start_app):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app = await start_app(module(closed, call="1s"))
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")
    assert "gave up after" in reason
    assert "EndpointConnectionError" in reason
    assert await failures(app) >= 2


async def test_function_arn_sets_the_region(invoke_api, start_app):
    api, url = await invoke_api()
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:fn-{function.name}"
    app = await start_app(module(url, function_name=arn))

    await assert_counter_flow(app)

    assert {i.function_name for i in api.invocations} == {
        arn.replace("{function.name}", name) for name in ("counter", "reporter")
    }
    assert all("/eu-west-1/lambda/aws4_request" in i.authorization for i in api.invocations)
    assert region_from_arn(arn) == "eu-west-1"
    assert region_from_arn("fn-counter") is None


async def test_no_credentials_for_aws_itself_parks_naming_the_chain(start_app, no_aws_credentials):
    app = await start_app(module(None, call="10min"))  # no endpointUrl: real AWS, never reached
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")
    assert "cannot invoke fn-counter" in reason
    assert "AWS_PROFILE" in reason and "AWS_ACCESS_KEY_ID" in reason


async def test_a_local_invoke_api_is_called_unsigned_without_credentials(
    invoke_api, start_app, no_aws_credentials
):
    api, url = await invoke_api()
    app = await start_app(module(url))

    await assert_counter_flow(app)

    assert api.invocations and all(i.authorization is None for i in api.invocations)


async def test_a_closed_invoker_fails_calls_cleanly(invoke_api):
    _, url = await invoke_api()
    invoker = LambdaInvoker()
    invoker.close()
    with pytest.raises(TransportError, match="closed"):
        await invoker.call(_endpoint(url), "fn-counter", _to_function())
