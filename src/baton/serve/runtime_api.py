"""The AWS Lambda Runtime API (2018-06-01), as a runtime process sees it.

`baton lambda local` runs each handler in AWS's own runtime interface client
(`python -m awslambdaric MODULE.HANDLER`), which long-polls this API for events and posts the
results back, exactly as inside Lambda:

    GET  /2018-06-01/runtime/invocation/next            -> 200, the event + Lambda-Runtime-* headers
    POST /2018-06-01/runtime/invocation/{id}/response   -> 202
    POST /2018-06-01/runtime/invocation/{id}/error      -> 202
    POST /2018-06-01/runtime/init/error                 -> 202

One server serves one runtime process (a `RuntimeSlot`), so the slot always knows which
invocation its process holds; that is what lets a crashed process fail exactly its invocation.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

PREFIX = "/2018-06-01/runtime"

#: Lambda's limit on a synchronous response payload (bytes).
MAX_RESPONSE_BYTES = 6_291_556

#: Headers awslambdaric's native client reads from /next. Only the request id is mandatory for
#: it (without it `runtime_client.next()` fails and the process exits); without the deadline,
#: `context.get_remaining_time_in_millis()` is 0, without the ARN `invoked_function_arn` is "".
REQUEST_ID = "Lambda-Runtime-Aws-Request-Id"
DEADLINE_MS = "Lambda-Runtime-Deadline-Ms"
FUNCTION_ARN = "Lambda-Runtime-Invoked-Function-Arn"
TRACE_ID = "Lambda-Runtime-Trace-Id"
CLIENT_CONTEXT = "Lambda-Runtime-Client-Context"
COGNITO_IDENTITY = "Lambda-Runtime-Cognito-Identity"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """What an invocation produced: the handler's payload, or an error document."""

    payload: bytes
    content_type: str = "application/json"
    #: "Unhandled" when the function failed (the Invoke API's X-Amz-Function-Error), else None.
    function_error: str | None = None

    @classmethod
    def error(cls, error_type: str, message: str, request_id: str = "") -> InvocationResult:
        """An error raised by the platform rather than by the handler (crash, timeout...)."""
        document = {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": [],
        }
        return cls(json.dumps(document).encode(), "application/json", "Unhandled")


class Invocation:
    """One queued Invoke call; `result` resolves once, whatever happens to the runtime."""

    def __init__(
        self,
        payload: bytes,
        function_arn: str,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> None:
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        self.function_arn = function_arn
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.trace_id = (
            f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
            f"Parent={secrets.token_hex(8)};Sampled=0"
        )
        self.deadline_ms = 0
        self.result: asyncio.Future[InvocationResult] = asyncio.get_running_loop().create_future()

    @property
    def done(self) -> bool:
        return self.result.done()

    def resolve(self, result: InvocationResult) -> bool:
        """Settle the invocation (first result wins); True if this call settled it."""
        if self.result.done():
            return False
        self.result.set_result(result)
        return True

    def next_headers(self) -> dict[str, str]:
        """The headers of the /next response that hands this invocation to a runtime."""
        headers = {
            REQUEST_ID: self.request_id,
            DEADLINE_MS: str(self.deadline_ms),
            FUNCTION_ARN: self.function_arn,
            TRACE_ID: self.trace_id,
            # exactly this: awslambdaric hands any other content type to the handler as bytes
            "Content-Type": "application/json",
        }
        if self.client_context:
            headers[CLIENT_CONTEXT] = self.client_context
        if self.cognito_identity:
            headers[COGNITO_IDENTITY] = self.cognito_identity
        return headers


class InvocationQueue:
    """FIFO of invocations for one function, shared by its runtime processes.

    Unlike asyncio.Queue it can put an invocation back at the front (a runtime that vanished
    between taking and receiving it) and skips invocations already settled.
    """

    def __init__(self) -> None:
        self._items: deque[Invocation] = deque()
        self._waiters: list[asyncio.Future[None]] = []

    def __len__(self) -> int:
        return sum(1 for item in self._items if not item.done)

    def put(self, invocation: Invocation) -> None:
        self._items.append(invocation)
        self._wake()

    def put_front(self, invocation: Invocation) -> None:
        self._items.appendleft(invocation)
        self._wake()

    def drain(self) -> list[Invocation]:
        """Take every pending invocation out of the queue."""
        items = [item for item in self._items if not item.done]
        self._items.clear()
        return items

    async def get(self) -> Invocation:
        """The oldest pending invocation (cancellation-safe: a cancelled get takes nothing)."""
        while True:
            while self._items:
                item = self._items.popleft()
                if not item.done:
                    return item
            await self._changed()

    async def wait_pending(self) -> None:
        """Return once some invocation is waiting."""
        while not len(self):
            await self._changed()

    async def _changed(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        # Few waiters (one per runtime process): wake them all, each re-checks the queue.
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()


class RuntimeSlot(Protocol):
    """The runtime process one Runtime API server answers."""

    async def next_invocation(self, request: web.Request) -> Invocation:
        """Block until an invocation is available; hand it to the process."""

    def invocation_response(self, request_id: str, result: InvocationResult) -> bool:
        """The process answered `request_id` (False if it holds no such invocation)."""

    def init_error(self, result: InvocationResult) -> None:
        """The process could not load its handler."""


def runtime_api_app(slot: RuntimeSlot) -> web.Application:
    """An aiohttp app implementing the Runtime API endpoints for `slot`."""

    async def next_invocation(request: web.Request) -> web.Response:
        invocation = await slot.next_invocation(request)
        return web.Response(body=invocation.payload, headers=invocation.next_headers())

    async def response(request: web.Request) -> web.Response:
        request_id = request.match_info["id"]
        body = await request.read()
        if len(body) > MAX_RESPONSE_BYTES:
            result = InvocationResult.error(
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes).",
                request_id,
            )
        else:
            content_type = request.headers.get("Content-Type") or "application/json"
            result = InvocationResult(body, content_type)
        return _accepted(slot.invocation_response(request_id, result), request_id)

    async def error(request: web.Request) -> web.Response:
        request_id = request.match_info["id"]
        result = _error_result(await request.read(), request.headers.get(ERROR_TYPE))
        return _accepted(slot.invocation_response(request_id, result), request_id)

    async def init_error(request: web.Request) -> web.Response:
        slot.init_error(_error_result(await request.read(), request.headers.get(ERROR_TYPE)))
        return web.json_response({"status": "OK"}, status=202)

    app = web.Application(client_max_size=MAX_RESPONSE_BYTES * 2)
    app.router.add_get(f"{PREFIX}/invocation/next", next_invocation)
    app.router.add_post(f"{PREFIX}/invocation/{{id}}/response", response)
    app.router.add_post(f"{PREFIX}/invocation/{{id}}/error", error)
    app.router.add_post(f"{PREFIX}/init/error", init_error)
    return app


def _accepted(known: bool, request_id: str) -> web.Response:
    if known:
        return web.json_response({"status": "OK"}, status=202)
    return web.json_response(
        {"errorMessage": f"Invalid request ID: {request_id}", "errorType": "InvalidRequestID"},
        status=400,
    )


def _error_result(body: bytes, error_type: str | None) -> InvocationResult:
    """An error document as the runtime posted it (awslambdaric's native client posts the JSON
    `{"errorMessage", "errorType", "requestId", "stackTrace"}` without the error-type header)."""
    try:
        document: Any = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {
            "errorMessage": body.decode("utf-8", "replace"),
            "errorType": error_type or "Runtime.Unknown",
        }
        body = json.dumps(document).encode()
    return InvocationResult(body, "application/json", "Unhandled")
