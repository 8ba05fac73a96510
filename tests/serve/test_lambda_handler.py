"""baton.serve.lambda_handler() with the events AWS delivers, carrying real ToFunction batches."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import threading

import pytest

from baton.aws.envelope import direct_invoke_payload, parse_http_response
from baton.serve import lambda_handler as exported_lambda_handler
from tests.serve.lambda_app import functions, handler
from tests.serve.protocol import from_function, missing_state, modified_ints, to_function

# A Lambda Function URL event (payload format 2.0), as AWS documents and delivers it.
FUNCTION_URL_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/statefun",
    "rawQueryString": "",
    "headers": {
        "content-length": "0",
        "x-amzn-tls-version": "TLSv1.3",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
        "x-forwarded-for": "203.0.113.17",
        "accept": "*/*",
        "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
        "x-amzn-trace-id": "Root=1-6745a0e1-0c6b5e7f3b1e2d4c5a697887",
        "host": "m7fz3wzd4kdc4j2q6jkkbqyq7e0xfwpu.lambda-url.us-east-1.on.aws",
        "content-type": "application/octet-stream",
        "accept-encoding": "gzip",
        "user-agent": "statefun",
    },
    "requestContext": {
        "accountId": "anonymous",
        "apiId": "m7fz3wzd4kdc4j2q6jkkbqyq7e0xfwpu",
        "domainName": "m7fz3wzd4kdc4j2q6jkkbqyq7e0xfwpu.lambda-url.us-east-1.on.aws",
        "domainPrefix": "m7fz3wzd4kdc4j2q6jkkbqyq7e0xfwpu",
        "http": {
            "method": "POST",
            "path": "/statefun",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.17",
            "userAgent": "statefun",
        },
        "requestId": "4c8d7f5e-59a8-4c65-9a0b-0e2f6d1c3b7a",
        "routeKey": "$default",
        "stage": "$default",
        "time": "26/Nov/2024:10:21:53 +0000",
        "timeEpoch": 1732616513411,
    },
    "body": "",
    "isBase64Encoded": True,
}

# An API Gateway REST API proxy integration event (payload format 1.0).
REST_API_EVENT = {
    "resource": "/statefun",
    "path": "/statefun",
    "httpMethod": "POST",
    "headers": {
        "Accept": "*/*",
        "Content-Type": "application/octet-stream",
        "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "statefun",
        "X-Amzn-Trace-Id": "Root=1-6745a0e1-5f6e7d8c9b0a1f2e3d4c5b6a",
        "X-Forwarded-For": "203.0.113.17",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    },
    "multiValueHeaders": {
        "Accept": ["*/*"],
        "Content-Type": ["application/octet-stream"],
        "Host": ["a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"],
    },
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "requestContext": {
        "resourceId": "x1y2z3",
        "resourcePath": "/statefun",
        "httpMethod": "POST",
        "extendedRequestId": "CxQ4GHb3IAMFl6A=",
        "requestTime": "26/Nov/2024:10:21:53 +0000",
        "path": "/prod/statefun",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": "prod",
        "domainPrefix": "a1b2c3d4e5",
        "requestTimeEpoch": 1732616513411,
        "requestId": "0f6e2a35-7b4c-4c1e-9f0a-2d3b4c5d6e7f",
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": "203.0.113.17",
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": "statefun",
            "user": None,
        },
        "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "apiId": "a1b2c3d4e5",
    },
    "body": "",
    "isBase64Encoded": True,
}


def function_url_event(body: bytes | None, method: str = "POST") -> dict:
    event = copy.deepcopy(FUNCTION_URL_EVENT)
    event["requestContext"]["http"]["method"] = method
    event["body"] = base64.b64encode(body).decode() if body is not None else None
    event["headers"]["content-length"] = str(len(body or b""))
    if body is None:
        del event["body"]
    return event


def rest_api_event(body: bytes | None, method: str = "POST") -> dict:
    event = copy.deepcopy(REST_API_EVENT)
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["body"] = base64.b64encode(body).decode() if body is not None else None
    return event


def direct_event(body: bytes) -> dict:
    return json.loads(direct_invoke_payload(body))


SHAPES = {"function-url-2.0": function_url_event, "rest-api-1.0": rest_api_event,
          "direct-invoke": direct_event}


def call(event) -> tuple[dict, object]:
    """Invoke the handler as Lambda would (JSON in, JSON out) and decode the proxy response."""
    reply = handler(json.loads(json.dumps(event)), None)
    raw = json.dumps(reply).encode()  # the handler's result must be JSON-serializable
    return reply, parse_http_response(raw)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_counter_asks_for_state_then_modifies_it(shape):
    make = SHAPES[shape]

    reply, response = call(make(to_function("test/counter", "alice", 5)))
    assert response.status == 200
    assert reply["headers"] == {"Content-Type": "application/octet-stream"}
    assert reply["isBase64Encoded"] is True
    assert missing_state(from_function(response.body)) == [("count", "io.statefun.types/int")]

    body = to_function("test/counter", "alice", 5, 2, state={"count": None})
    reply, response = call(make(body))
    assert response.status == 200 and response.content_type == "application/octet-stream"
    assert modified_ints(from_function(response.body)) == {"count": 7}

    body = to_function("test/counter", "alice", 1, state={"count": 7})
    _, response = call(make(body))
    assert modified_ints(from_function(response.body)) == {"count": 8}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_raising_function_is_a_500_with_the_reason_and_a_logged_traceback(shape, caplog):
    caplog.set_level(logging.ERROR, logger="baton.serve.aws_lambda")
    _, response = call(SHAPES[shape](to_function("test/failing", "bob", 1)))

    assert response.status == 500
    assert response.body.decode() == "ValueError: boom for bob"
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "test/failing" in record.getMessage()
    assert record.exc_info is not None and "boom for bob" in caplog.text
    assert "Traceback" in caplog.text and "lambda_app.py" in caplog.text


@pytest.mark.parametrize("shape", ["function-url-2.0", "rest-api-1.0"])
def test_a_raw_text_body_is_taken_byte_for_character(shape):
    # isBase64Encoded false: the body is a JSON string holding one character per byte.
    body = to_function("test/counter", "zoë", 3, state={"count": 4})
    event = SHAPES[shape](b"x")
    event["isBase64Encoded"] = False
    event["body"] = body.decode("latin-1")

    _, response = call(event)

    assert response.status == 200, response.body
    assert modified_ints(from_function(response.body)) == {"count": 7}


def test_a_text_body_that_lost_bytes_is_refused_with_the_fix():
    # What API Gateway hands over for a binary body when no binary media type is configured.
    event = rest_api_event(b"x")
    event["isBase64Encoded"] = False
    event["body"] = to_function("test/counter", "x", 1).decode("utf-8", "replace")

    _, response = call(event)

    assert response.status == 400
    assert "binaryMediaTypes" in response.body.decode()


BAD_EVENTS = {
    "empty object": ({}, 400, "not a StateFun request"),
    "json array": ([1, 2], 400, "array"),
    "json string": ("hello", 400, "string"),
    "scheduled event": (
        {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        400, "not a StateFun request",
    ),
    "GET on a function URL": (function_url_event(None, "GET"), 405, "method GET not allowed"),
    "GET via API Gateway": (rest_api_event(b"x", "GET"), 405, "method GET not allowed"),
    "no body (function URL)": (function_url_event(None), 400, "no body"),
    "null body (REST API)": (rest_api_event(None), 400, "no body"),
    "not base64": ({**function_url_event(b"x"), "body": "@@@not base64@@@"}, 400, "base64"),
    "bytes that are no ToFunction": (
        function_url_event(b"\xff\xff\xff\xff"), 400, "not a serialized ToFunction",
    ),
    "empty body": (function_url_event(b""), 400, "no body"),
    "protobuf without a batch": (
        direct_event(b"\x12\x03abc"), 400, "carries no invocation batch",
    ),
    "envelope without body": ({"baton.statefun": "v1"}, 400, "envelope has no body"),
    "envelope of another version": (
        {"baton.statefun": "v9", "body": "AA=="}, 400, "unsupported baton.statefun envelope version",
    ),
    "text beyond latin-1": (
        {**function_url_event(b"x"), "isBase64Encoded": False, "body": "snow ☃"},
        400, "not a byte string",
    ),
    "unknown function type": (
        direct_event(to_function("test/nobody", "x", 1)), 404, "no function of type test/nobody",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
def test_bad_events_get_a_4xx_with_a_reason(case):
    event, status, reason = BAD_EVENTS[case]
    reply, response = call(event)
    assert response.status == status
    assert reason in response.body.decode()
    assert response.content_type.startswith("text/plain")
    if status == 405:
        assert reply["headers"]["Allow"] == "POST"


def test_the_handler_works_inside_a_running_event_loop_and_from_threads():
    """Called synchronously from a coroutine (asyncio.run would refuse) and from many threads
    at once while that loop runs."""
    body = to_function("test/counter", "carol", 2, state={"count": 40})

    async def main():
        inline = handler(direct_event(body), None)  # blocks this loop: the handler has its own
        threaded = await asyncio.gather(
            *(asyncio.to_thread(handler, direct_event(body), None) for _ in range(8))
        )
        return [inline, *threaded]

    replies = asyncio.run(main())
    assert len(replies) == 9
    for reply in replies:
        response = parse_http_response(json.dumps(reply).encode())
        assert response.status == 200, response.body
        assert modified_ints(from_function(response.body)) == {"count": 42}


def test_plain_threads_without_any_loop():
    body = to_function("test/counter", "dave", 1, state={"count": 0})
    results: list[dict] = []
    threads = [
        threading.Thread(target=lambda: results.append(handler(direct_event(body), None)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r["statusCode"] for r in results] == [200] * 4


def test_baton_serve_exports_the_lambda_handler_factory():
    import importlib

    module = importlib.import_module("baton.serve.aws_lambda")
    assert callable(exported_lambda_handler) and exported_lambda_handler is module.lambda_handler
    assert callable(exported_lambda_handler(functions))


def test_a_non_statefun_object_is_refused_at_build_time():
    with pytest.raises(TypeError, match="StatefulFunctions"):
        exported_lambda_handler({"test/counter": None})
