"""An AWS Lambda handler answering StateFun invocation batches with official-SDK functions.

One handler serves three event shapes (see `baton.aws.envelope`):

* a Lambda Function URL / API Gateway HTTP API event (payload format 2.0),
* an API Gateway REST API proxy event (payload format 1.0; ALB events look the same),
* baton's direct-invoke envelope `{"baton.statefun": "v1", "body": "<base64 ToFunction>"}`.

Every reply is an HTTP-proxy response: 200 with the base64 `FromFunction` and content type
`application/octet-stream`; 4xx with a plain-text reason for events that are not StateFun
requests; 500 with `Type: message` when a function raised (the traceback goes to the log).

    # app.py, deployed with handler "app.handler"
    from statefun import StatefulFunctions
    from baton.serve.aws_lambda import lambda_handler

    functions = StatefulFunctions()
    ...
    handler = lambda_handler(functions)

This module imports neither aiohttp nor the runtime: cold starts pay only for the SDK.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from google.protobuf.message import DecodeError
from statefun import RequestReplyHandler, StatefulFunctions
from statefun.request_reply_pb2 import ToFunction

from baton.aws.envelope import (
    CONTENT_TYPE,
    DIRECT_INVOKE_KEY,
    DIRECT_INVOKE_VERSION,
    http_response,
)

__all__ = ["LambdaHandler", "lambda_handler"]

log = logging.getLogger(__name__)

TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


def lambda_handler(functions: StatefulFunctions) -> Callable[[Any, Any], dict[str, Any]]:
    """An AWS Lambda handler `(event, context) -> proxy response dict` serving `functions`."""
    return LambdaHandler(functions)


def text_response(
    status: int, text: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A proxy-integration response carrying a readable text body (not base64)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": TEXT_CONTENT_TYPE, **(headers or {})},
        "isBase64Encoded": False,
        "body": text,
    }


class _Rejected(Exception):
    """The event is not a StateFun request this handler can answer."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})


class _LoopThread:
    """One event loop on a daemon thread, shared by every call of a handler.

    Calls block the calling thread until the batch is answered, so the handler works the same
    from Lambda's main thread, from worker threads, and even from a thread whose own event loop
    is running. Functions keep one loop across invocations (loop-bound clients stay usable).
    After a fork the child starts its own thread (threads do not survive fork).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=run, name="baton-lambda-handler", daemon=True).start()
                ready.wait()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine_factory: Callable[[], Any]) -> Any:
        loop = self._running_loop()
        future: Future = asyncio.run_coroutine_threadsafe(coroutine_factory(), loop)
        return future.result()


class LambdaHandler:
    """Callable Lambda handler; build it with `lambda_handler(functions)`."""

    def __init__(self, functions: StatefulFunctions) -> None:
        if not isinstance(functions, StatefulFunctions):
            raise TypeError(
                f"lambda_handler needs a statefun.StatefulFunctions, got {type(functions).__name__}"
            )
        self.functions = functions
        self._handler = RequestReplyHandler(functions)
        self._loop = _LoopThread()

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        try:
            body = request_body(event)
            typename = self._target(body)
        except _Rejected as rejected:
            log.warning("rejected event (%d): %s", rejected.status, rejected.reason)
            return text_response(rejected.status, rejected.reason, rejected.headers)
        try:
            reply = self._loop.run(lambda: self._handler.handle_async(body))
        except Exception as error:  # the runtime retries the batch; say why in the log and body
            log.exception("function %s failed", typename)
            return text_response(500, f"{type(error).__name__}: {error}")
        return http_response(200, reply)

    def _target(self, body: bytes) -> str:
        """The function type the batch is for (checked before any user code runs)."""
        try:
            request = ToFunction.FromString(body)
        except DecodeError:
            raise _Rejected(
                400, "not a StateFun request: the body is not a serialized ToFunction"
            ) from None
        target = request.invocation.target
        if not request.HasField("invocation") or not (target.namespace and target.type):
            raise _Rejected(
                400, "not a StateFun request: the ToFunction carries no invocation batch"
            )
        typename = f"{target.namespace}/{target.type}"
        known = getattr(self.functions, "_functions", None)
        if isinstance(known, Mapping) and typename not in known:
            served = ", ".join(sorted(known)) or "none"
            raise _Rejected(
                404, f"no function of type {typename} here (this handler serves: {served})"
            )
        return typename


def request_body(event: Any) -> bytes:
    """The serialized ToFunction an event carries (raises _Rejected with a reason)."""
    if not isinstance(event, dict):
        raise _Rejected(400, f"not a StateFun request: the event is a JSON {_json_kind(event)}, "
                             "expected an object")
    if DIRECT_INVOKE_KEY in event:
        version = event[DIRECT_INVOKE_KEY]
        if version != DIRECT_INVOKE_VERSION:
            raise _Rejected(
                400,
                f"unsupported {DIRECT_INVOKE_KEY} envelope version {version!r} "
                f"(this handler speaks {DIRECT_INVOKE_VERSION!r})",
            )
        body = event.get("body")
        if not isinstance(body, str) or not body:
            raise _Rejected(400, "the direct-invoke envelope has no body (base64 ToFunction)")
        return _b64decode(body)
    method = _http_method(event)
    if method is None:
        raise _Rejected(
            400,
            "not a StateFun request: expected a Function URL / API Gateway proxy event or "
            f'a direct-invoke envelope {{"{DIRECT_INVOKE_KEY}": "{DIRECT_INVOKE_VERSION}", '
            '"body": "<base64 ToFunction>"}',
        )
    if method.upper() != "POST":
        raise _Rejected(
            405,
            f"method {method} not allowed: StateFun POSTs invocation batches",
            {"Allow": "POST"},
        )
    body = event.get("body")
    if body is None or body == "":
        raise _Rejected(400, f"the request has no body (expected a {CONTENT_TYPE} ToFunction)")
    if not isinstance(body, str):
        raise _Rejected(400, f"the event body is a JSON {_json_kind(body)}, expected a string")
    if event.get("isBase64Encoded"):
        return _b64decode(body)
    return _text_body(body)


def _http_method(event: dict[str, Any]) -> str | None:
    """The HTTP method of a proxy event, or None when the event is not one."""
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if isinstance(http, dict) and isinstance(http.get("method"), str):  # payload 2.0
        return http["method"]
    if isinstance(event.get("httpMethod"), str):  # payload 1.0 (REST API, HTTP API 1.0, ALB)
        return event["httpMethod"]
    return None


def _text_body(text: str) -> bytes:
    """The bytes of a body delivered as text (`isBase64Encoded` false).

    A ToFunction is never valid UTF-8 (its first byte, 0xA2, starts the tag of field 100), so
    text carries one losslessly only as one character per byte (ISO-8859-1). Text that lost
    bytes to U+FFFD (API Gateway REST APIs without a binary media type decode bodies as UTF-8)
    is refused with the fix.
    """
    if "\ufffd" in text:
        raise _Rejected(
            400,
            "the binary body was delivered as text and lost bytes (U+FFFD): deliver it base64 "
            f"(for an API Gateway REST API add {CONTENT_TYPE} to binaryMediaTypes)",
        )
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise _Rejected(
            400,
            "not a StateFun request: the text body has characters beyond U+00FF, so it is not "
            "a byte string (send the ToFunction base64 with isBase64Encoded true)",
        ) from None


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _Rejected(400, "the body is not valid base64") from None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )
