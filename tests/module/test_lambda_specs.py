"""baton's Lambda additions to module.yaml: `baton.endpoints.v1/lambda` and the
`baton.transports.v1/lambda-url` transport of v2 http endpoints."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

from baton.module import (
    AsyncTransportSpec,
    HttpEndpointSpec,
    ModuleError,
    ModuleWarning,
    SourceLocation,
    TargetFunctions,
    TypeName,
    load_module,
    load_module_text,
    validate_application,
)
from baton.module.specs import LambdaEndpointSpec, LambdaUrlTransportSpec
from tests.module.inline import error_of, yaml

LAMBDA_HEAD = """
kind: baton.endpoints.v1/lambda
spec:
  functions: example/*
"""
V2_HEAD = """
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: https://abc123.lambda-url.us-east-1.on.aws/
"""

# --- good files -----------------------------------------------------------------------------


def test_a_lambda_endpoint_with_every_field():
    module = load_module_text(
        yaml("""
        kind: io.statefun.playground.v1/ingress
        spec: {port: 0}
        ---
        kind: baton.endpoints.v1/lambda
        spec:
          functions: example/*
          functionName: arn:aws:lambda:eu-west-1:123456789012:function:shop-{function.name}
          qualifier: live
          region: eu-west-1
          endpointUrl: http://localhost:9001
          maxNumBatchRequests: 50
          timeouts:
            call: 30s
        """),
        "app.yaml",
    )
    (endpoint,) = module.endpoints
    assert endpoint == LambdaEndpointSpec(
        functions=TargetFunctions("example", None),
        function_name="arn:aws:lambda:eu-west-1:123456789012:function:shop-{function.name}",
        qualifier="live",
        region="eu-west-1",
        endpoint_url="http://localhost:9001",
        max_num_batch_requests=50,
        call=timedelta(seconds=30),
        kind="baton.endpoints.v1/lambda",
        source=SourceLocation("app.yaml", 4),
    )
    assert endpoint.url_for(TypeName("example", "cart")) == (
        "arn:aws:lambda:eu-west-1:123456789012:function:shop-cart"
    )
    assert module.extensions == ()  # a typed endpoint, not a raw extension document
    validate_application(module)  # a lambda endpoint counts as a function provider


def test_lambda_endpoint_defaults_and_a_top_level_call():
    module = load_module_text(
        yaml(LAMBDA_HEAD + "  functionName: greeter\n---\n" + LAMBDA_HEAD.replace(
            "example/*", "other/f") + "  functionName: '123456789012:function:f:7'\n  call: 5s\n")
    )
    plain, partial = module.endpoints
    assert (plain.function_name, plain.qualifier, plain.region, plain.endpoint_url) == (
        "greeter", None, None, None
    )
    assert (plain.call, plain.max_num_batch_requests) == (timedelta(minutes=2), 1000)
    assert partial.function_name == "123456789012:function:f:7"
    assert partial.call == timedelta(seconds=5)


def test_an_exact_lambda_binding_wins_over_an_http_wildcard():
    module = load_module_text(
        yaml(V2_HEAD + "---\n" + LAMBDA_HEAD.replace("example/*", "example/cart")
             + "  functionName: cart\n")
    )
    assert isinstance(module.endpoint_for(TypeName("example", "cart")), LambdaEndpointSpec)
    assert isinstance(module.endpoint_for(TypeName("example", "user")), HttpEndpointSpec)


def test_the_lambda_url_transport_with_every_field():
    module = load_module_text(
        yaml("""
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/*
          urlPathTemplate: https://abc123.lambda-url.us-east-1.on.aws/
          maxNumBatchRequests: 10
          transport:
            type: baton.transports.v1/lambda-url
            region: us-east-1
            service: execute-api
            call: 1min
            connect: 5s
            pool_ttl: 0
            pool_size: 8
            payload_max_bytes: 1048576
        """)
    )
    (endpoint,) = module.endpoints
    assert endpoint.transport == LambdaUrlTransportSpec(
        region="us-east-1",
        service="execute-api",
        call=timedelta(minutes=1),
        connect=timedelta(seconds=5),
        pool_ttl=timedelta(0),
        pool_size=8,
        payload_max_bytes=1048576,
    )
    assert endpoint.max_num_batch_requests == 10


def test_the_lambda_url_transport_defaults_follow_the_async_transport():
    text = V2_HEAD + "  transport: {type: baton.transports.v1/lambda-url}\n"
    module = load_module_text(yaml(text))
    transport = module.endpoints[0].transport
    assert transport == LambdaUrlTransportSpec()
    defaults = AsyncTransportSpec()
    assert (transport.call, transport.connect, transport.pool_size, transport.region) == (
        defaults.call, defaults.connect, defaults.pool_size, None
    )
    assert transport.service == "lambda"


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        (LAMBDA_HEAD + "  functionName: f\n  urlPathTemplate: http://x/\n", 5, "urlPathTemplate",
         "names its function with `functionName`"),
        (LAMBDA_HEAD + "  functionName: f\n  functionname: g\n", 5, "functionname",
         "Did you mean `functionName`?"),
        (V2_HEAD + "  transport:\n    type: baton.transports.v1/lambda-url\n    read: 5s\n", 7,
         "read", "no read timeout"),
    ],
    ids=["url-in-lambda-endpoint", "key-case", "read-in-lambda-url"],
)
def test_unknown_keys_warn_with_a_hint(text, line, key, fragment):
    with pytest.warns(ModuleWarning) as caught:
        load_module_text(yaml(text), "m.yaml")
    (warning,) = [w for w in caught if f"unknown key `{key}`" in str(w.message)]
    assert str(warning.message).startswith(f"m.yaml:{line}: ")
    assert fragment in str(warning.message)


def test_good_lambda_documents_load_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModuleWarning)
        load_module_text(
            yaml(LAMBDA_HEAD + "  functionName: f-{function.name}\n  qualifier: $LATEST\n---\n"
                 + V2_HEAD.replace("example/*", "other/*")
                 + "  transport: {type: baton.transports.v1/lambda-url, region: us-east-1}\n")
        )


# --- broken files: file, line, field ------------------------------------------------------------

BROKEN = [
    ("missing-function-name", LAMBDA_HEAD + "  qualifier: live\n", 2, "spec.functionName",
     ["missing required key `functionName`", "functionName: example-{function.name}"]),
    ("function-name-not-a-string", LAMBDA_HEAD + "  functionName: [a, b]\n", 4,
     "spec.functionName", ["`functionName` must be a string, got a list"]),
    ("unknown-placeholder", LAMBDA_HEAD + "  functionName: f-{function.namespace}\n", 4,
     "spec.functionName", ["unknown placeholder", "{function.name}"]),
    ("bad-function-name", LAMBDA_HEAD + "  functionName: my function\n", 4, "spec.functionName",
     ["not a valid Lambda function name", "letters, digits"]),
    ("long-function-name", LAMBDA_HEAD + f"  functionName: {'f' * 65}\n", 4, "spec.functionName",
     ["at most 64 characters"]),
    ("arn-bad-region", LAMBDA_HEAD
     + "  functionName: arn:aws:lambda:moon:123456789012:function:f\n", 4, "spec.functionName",
     ["the region 'moon'", "not an AWS region"]),
    ("arn-bad-account", LAMBDA_HEAD
     + "  functionName: arn:aws:lambda:us-east-1:1234:function:f\n", 4, "spec.functionName",
     ["the account '1234'", "exactly 12 digits"]),
    ("not-a-lambda-arn", LAMBDA_HEAD
     + "  functionName: arn:aws:s3:::bucket\n", 4, "spec.functionName",
     ["is not a Lambda function ARN"]),
    ("qualifier-contradicts-name", LAMBDA_HEAD + "  functionName: f:blue\n  qualifier: green\n",
     5, "spec.qualifier", ["`qualifier` 'green' contradicts the qualifier 'blue'"]),
    ("bad-qualifier", LAMBDA_HEAD + "  functionName: f\n  qualifier: 'v 1'\n", 5,
     "spec.qualifier", ["is not a Lambda version or alias"]),
    ("bad-region", LAMBDA_HEAD + "  functionName: f\n  region: US_EAST_1\n", 5, "spec.region",
     ["`region` 'US_EAST_1' is not an AWS region name", "Did you mean `us-east-1`?"]),
    ("region-contradicts-arn", LAMBDA_HEAD
     + "  functionName: arn:aws:lambda:eu-west-1:123456789012:function:f\n  region: us-east-1\n",
     5, "spec.region", ["contradicts the region 'eu-west-1' of the ARN"]),
    ("bad-endpoint-url", LAMBDA_HEAD + "  functionName: f\n  endpointUrl: localhost:9001\n", 5,
     "spec.endpointUrl", ["must be an http(s) URL with a host", "baton lambda local"]),
    ("endpoint-url-port-0", LAMBDA_HEAD + "  functionName: f\n  endpointUrl: http://h:0\n", 5,
     "spec.endpointUrl", ["uses port 0"]),
    ("call-twice", LAMBDA_HEAD + "  functionName: f\n  call: 1s\n  timeouts: {call: 2s}\n", 5,
     "spec.call", ["given twice"]),
    ("zero-call", LAMBDA_HEAD + "  functionName: f\n  timeouts:\n    call: 0s\n", 6,
     "spec.timeouts.call", ["Timeout durations must be larger than 0"]),
    ("lambda-bad-functions", LAMBDA_HEAD.replace("example/*", "ex*/f") + "  functionName: f\n",
     3, "spec.functions", ["Invalid syntax for target functions"]),
    ("lambda-bad-batch", LAMBDA_HEAD + "  functionName: f\n  maxNumBatchRequests: lots\n", 5,
     "spec.maxNumBatchRequests", ["must be an integer"]),
    ("unknown-baton-endpoint-kind", LAMBDA_HEAD.replace("lambda", "lamda")
     + "  functionName: f\n", 1, "kind",
     ["unknown baton endpoint kind `baton.endpoints.v1/lamda`",
      "Did you mean `baton.endpoints.v1/lambda`?"]),
    ("transport-type-typo", V2_HEAD + "  transport:\n    type: baton.transports.v1/lambda_url\n",
     6, "spec.transport.type",
     ["unknown transport type", "baton.transports.v1/lambda-url (SigV4-signed",
      "Did you mean `baton.transports.v1/lambda-url`?"]),
    ("lambda-url-bad-region", V2_HEAD
     + "  transport:\n    type: baton.transports.v1/lambda-url\n    region: virginia\n", 7,
     "spec.transport.region", ["not an AWS region name"]),
    ("lambda-url-bad-service", V2_HEAD
     + "  transport:\n    type: baton.transports.v1/lambda-url\n    service: Lambda URL\n", 7,
     "spec.transport.service", ["not a SigV4 service name", "execute-api"]),
    ("lambda-url-timeouts", V2_HEAD
     + "  transport:\n    type: baton.transports.v1/lambda-url\n    timeouts: {call: 1s}\n", 7,
     "spec.transport.timeouts", ["`timeouts` is not supported", "`call` and `connect` directly"]),
    ("lambda-url-client-cert", V2_HEAD
     + "  transport:\n    type: baton.transports.v1/lambda-url\n    client_cert: file:/c.pem\n",
     7, "spec.transport.client_cert", ["authenticates with SigV4"]),
    ("lambda-url-pool-size", V2_HEAD
     + "  transport:\n    type: baton.transports.v1/lambda-url\n    pool_size: 0\n", 7,
     "spec.transport.pool_size", ["must be between 1 and"]),
    ("lambda-url-zero-call", V2_HEAD
     + "  transport:\n    type: baton.transports.v1/lambda-url\n    call: 0\n", 7,
     "spec.transport.call", ["Timeout durations must be larger than 0"]),
    ("lambda-url-unix-socket", """
     kind: io.statefun.endpoints.v2/http
     spec:
       functions: example/*
       urlPathTemplate: http+unix:///run/fn.sock/statefun
       transport: {type: baton.transports.v1/lambda-url}
     """, 4, "spec.urlPathTemplate", ["cannot be a Lambda Function URL"]),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "fragments"),
    [
        pytest.param(text, line, field, fragments, id=case)
        for case, text, line, field, fragments in BROKEN
    ],
)
def test_broken_lambda_documents(text, line, field, fragments):
    error = error_of(text)
    assert (error.file, error.line, error.field) == ("module.yaml", line, field), str(error)
    for fragment in fragments:
        assert fragment in error.message, f"{fragment!r} not in {error.message!r}"
    assert str(error).startswith(f"module.yaml:{line}: {field}: ")


def test_lambda_and_http_endpoints_share_duplicate_binding_checks(tmp_path):
    http = tmp_path / "http.yaml"
    http.write_text(yaml(V2_HEAD))
    lam = tmp_path / "lambda.yaml"
    lam.write_text(yaml("# functions served by Lambda" + LAMBDA_HEAD + "  functionName: f\n"))
    with pytest.raises(ModuleError) as info:
        load_module([http, lam])
    error = info.value
    assert (error.file, error.line, error.field) == (str(lam), 4, "spec.functions")
    assert f"A binding for the key example/* was previously defined at {http}:3." in error.message

    twice = error_of(LAMBDA_HEAD + "  functionName: f\n---" + LAMBDA_HEAD + "  functionName: g\n")
    assert (twice.line, twice.field) == (8, "spec.functions")
    assert "previously defined at module.yaml:3" in twice.message


# --- strict StateFun mode ---------------------------------------------------------------------


def test_strict_mode_rejects_the_lambda_endpoint_and_says_what_a_cluster_uses():
    text = "# head" + LAMBDA_HEAD + "  functionName: f\n"
    error = error_of(text, "app.yaml", strict_statefun=True)
    assert (error.file, error.line, error.field) == ("app.yaml", 2, "kind")
    message = error.message
    assert "`baton.endpoints.v1/lambda` is a baton extension" in message
    assert "Lambda's Invoke API" in message
    assert "Function URL with auth type NONE" in message
    assert "API Gateway in front of it" in message
    assert "plain io.statefun.endpoints.v2/http endpoint" in message
    assert "aws-lambda deployment example" in message


def test_strict_mode_rejects_the_lambda_url_transport_and_says_what_a_cluster_uses():
    text = V2_HEAD + "  transport:\n    call: 1min\n    type: baton.transports.v1/lambda-url\n"
    error = error_of(text, "app.yaml", strict_statefun=True)
    assert (error.file, error.line, error.field) == ("app.yaml", 7, "spec.transport.type")
    message = error.message
    assert "`baton.transports.v1/lambda-url` is a baton extension" in message
    assert "cannot sign requests with SigV4" in message
    assert "Function URL with auth type NONE" in message
    assert "API Gateway in front of it" in message
    assert "aws-lambda deployment example" in message
    # without strict mode the same file loads
    assert isinstance(
        load_module_text(yaml(text)).endpoints[0].transport, LambdaUrlTransportSpec
    )


def test_strict_mode_still_accepts_plain_statefun_endpoints():
    text = V2_HEAD + "  transport: {type: io.statefun.transports.v1/async, call: 1min}\n"
    (endpoint,) = load_module_text(yaml(text), strict_statefun=True).endpoints
    assert endpoint.transport == AsyncTransportSpec(call=timedelta(minutes=1))
