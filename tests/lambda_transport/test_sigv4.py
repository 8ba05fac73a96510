"""`baton.transports.v1/lambda-url`: SigV4-signed calls to a Function URL with auth AWS_IAM.

The Function URL is a loopback stand-in that verifies every signature from the wire and forwards
verified requests to real SDK functions (`function_url.FunctionUrlAuth`).
"""

from __future__ import annotations

import hashlib
import sys
import textwrap

import pytest

from baton.aws.signing import AwsSigner, region_from_url
from tests.conftest import serve_app
from tests.lambda_transport.conftest import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN
from tests.lambda_transport.function_url import FunctionUrlAuth
from tests.lambda_transport.functions import (
    PLAYGROUND,
    assert_counter_flow,
    counter_functions,
    parked_reason,
)

KNOWN = {ACCESS_KEY: (SECRET_KEY, SESSION_TOKEN)}


@pytest.fixture
async def function_url():
    """Start a verifying Function URL stand-in; returns its `/statefun` URL."""
    runners = []

    async def start(auth: FunctionUrlAuth) -> str:
        runner, url = await serve_app(auth.app(counter_functions()))
        runners.append(runner)
        return f"{url}/statefun"

    yield start
    for runner in runners:
        await runner.cleanup()


def module(url: str, transport: str | None, call: str = "5s") -> str:
    """A v2 endpoint for example/*; `transport` is the YAML of its transport's extra keys."""
    if transport is None:  # a plain v2 http endpoint: async transport, unsigned
        block = f"  transport:\n    call: {call}\n"
    else:
        extra = textwrap.indent(transport.strip(), "    ") + "\n" if transport.strip() else ""
        block = (
            "  transport:\n    type: baton.transports.v1/lambda-url\n"
            f"    call: {call}\n{extra}"
        )
    return (
        f"kind: io.statefun.endpoints.v2/http\nspec:\n  functions: example/*\n"
        f"  urlPathTemplate: {url}\n{block}{PLAYGROUND}"
    )


@pytest.mark.parametrize(
    ("transport", "region", "service"),
    [
        ("region: us-east-1", "us-east-1", "lambda"),
        ("", "eu-central-1", "lambda"),  # no region: the AWS chain's default region
        ("region: eu-west-1\nservice: execute-api", "eu-west-1", "execute-api"),
    ],
    ids=["region-in-spec", "region-from-aws-chain", "api-gateway-iam"],
)
async def test_signed_calls_complete_a_counter_flow(
    function_url, start_app, aws_env, transport, region, service
):
    aws_env.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    auth = FunctionUrlAuth(KNOWN, region=region, service=service)
    app = await start_app(module(await function_url(auth), transport))

    await assert_counter_flow(app)

    assert auth.rejected == []
    assert len(auth.verified) >= 2  # the counter's and the reporter's calls
    for signed in auth.verified:
        assert signed.access_key == ACCESS_KEY
        assert signed.token == SESSION_TOKEN  # temporary credentials carry their token
        assert {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"} <= set(
            signed.signed_headers
        )
    metrics = await app.admin_get("/metrics.json")
    assert metrics["functions"]["example/counter"]["invocation_failures"] == 0


async def test_an_unsigned_request_gets_403_and_the_address_parks(function_url, start_app):
    """Control: the same stand-in refuses a plain (unsigned) v2 http endpoint."""
    auth = FunctionUrlAuth(KNOWN)
    app = await start_app(module(await function_url(auth), None, call="1s"))
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")
    assert "HTTP 403" in reason and "not signed" in reason
    assert "gave up after" in reason  # retried like the async transport, within the budget
    assert auth.verified == [] and len(auth.rejected) >= 2


async def test_a_wrong_signature_gets_403_and_the_address_parks(function_url, start_app):
    auth = FunctionUrlAuth({ACCESS_KEY: ("a-different-secret", SESSION_TOKEN)})
    app = await start_app(module(await function_url(auth), "region: us-east-1", call="1s"))
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")
    assert "HTTP 403" in reason
    assert "signature we calculated does not match" in reason
    assert auth.verified == [] and len(auth.rejected) >= 2
    assert (await app.state("example/counter/c1")) == {}


async def test_missing_credentials_park_at_once_naming_the_aws_chain(
    function_url, start_app, no_aws_credentials
):
    auth = FunctionUrlAuth(KNOWN)
    app = await start_app(module(await function_url(auth), "region: us-east-1", call="10min"))
    assert await app.send("example/counter/c1", "{}") == 202

    reason = await parked_reason(app, "example/counter/c1")  # long before the 10 min budget
    assert "no credentials" in reason
    assert "AWS_PROFILE" in reason and "AWS_ACCESS_KEY_ID" in reason
    assert auth.verified == [] and auth.rejected == []  # nothing was sent


async def test_refreshable_credentials_are_refreshed(function_url, start_app, aws_env, tmp_path):
    """A credential_process with a near expiry is re-run, so later calls use the new keys."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        aws_env.delenv(name)
    counter = tmp_path / "issued"
    script = tmp_path / "credentials.py"
    script.write_text(
        textwrap.dedent(f"""
        import datetime, json, pathlib
        path = pathlib.Path({str(counter)!r})
        n = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(n))
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
        print(json.dumps({{
            "Version": 1, "AccessKeyId": f"key{{n}}", "SecretAccessKey": f"secret{{n}}",
            "SessionToken": f"token{{n}}", "Expiration": expires.isoformat(),
        }}))
        """)
    )
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\ncredential_process = {sys.executable} {script}\n")
    aws_env.setenv("AWS_CONFIG_FILE", str(config))
    auth = FunctionUrlAuth({f"key{n}": (f"secret{n}", f"token{n}") for n in range(1, 100)})
    app = await start_app(module(await function_url(auth), "region: us-east-1"))

    await assert_counter_flow(app)

    assert auth.rejected == []
    keys = [signed.access_key for signed in auth.verified]
    assert len(set(keys)) >= 2, keys  # a 1-minute expiry is inside botocore's refresh window
    assert all(s.token == f"token{s.access_key[3:]}" for s in auth.verified)


async def test_region_comes_from_the_function_url_host():
    assert region_from_url("https://abcdef123.lambda-url.eu-west-3.on.aws/") == "eu-west-3"
    assert region_from_url("https://abcdef123.lambda-url.eu-west-3.on.aws:443/x?y=1") == "eu-west-3"
    assert region_from_url("http://127.0.0.1:8000/statefun") is None
    assert region_from_url("https://example.com/lambda-url.eu-west-3.on.aws") is None

    headers = await AwsSigner().sign(
        "https://abcdef123.lambda-url.ap-south-1.on.aws/", b"body", {"Content-Type": "x"}
    )
    assert f"Credential={ACCESS_KEY}/" in headers["Authorization"]
    assert "/ap-south-1/lambda/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == SESSION_TOKEN
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(b"body").hexdigest()
