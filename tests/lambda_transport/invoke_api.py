"""A loopback test double of Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`).

It answers what AWS answers: a synchronous invocation returns 200 with the function's result as
the body (`X-Amz-Function-Error` when the function failed), and service errors come as JSON with
`x-amzn-ErrorType`. Successful invocations run the request through a real SDK handler and wrap
the reply in the HTTP-proxy shape, as baton's Lambda handler does. `fail_next` scripts failures.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from aiohttp import web
from statefun import RequestReplyHandler, StatefulFunctions

from baton.aws.envelope import DIRECT_INVOKE_KEY, DIRECT_INVOKE_VERSION, http_response

INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"

# What AWS answers for each scripted failure: (status, error type or None, body, extra headers)
THROTTLED = (
    429,
    "TooManyRequestsException",
    {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
     "message": "Rate Exceeded."},
)
SERVICE_ERROR = (500, "ServiceException", {"Type": "Service", "message": "Lambda is unwell"})
ACCESS_DENIED = (
    403,
    "AccessDeniedException",
    {"Type": "User", "Message": "User: arn:aws:iam::123456789012:user/t is not authorized to "
     "perform: lambda:InvokeFunction"},
)
INVALID_PARAMETER = (
    400,
    "InvalidParameterValueException",
    {"Type": "User", "message": "Unsupported qualifier"},
)
UNHANDLED = ("unhandled",)  # the function raised: 200 + X-Amz-Function-Error: Unhandled
PROXY_500 = ("proxy-500",)  # the handler answered a proxy response with status 500
WRONG_CONTENT_TYPE = ("wrong-content-type",)


@dataclass
class Invocation:
    function_name: str
    qualifier: str | None
    authorization: str | None
    answered: int


@dataclass
class InvokeApi:
    functions: StatefulFunctions
    fail_next: list[tuple] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)

    def app(self) -> web.Application:
        handler = RequestReplyHandler(self.functions)

        async def invoke(request: web.Request) -> web.Response:
            payload = await request.read()
            failure = self.fail_next.pop(0) if self.fail_next else None
            response = await self._answer(handler, payload, failure)
            self.invocations.append(
                Invocation(
                    request.match_info["name"],
                    request.query.get("Qualifier"),
                    request.headers.get("Authorization"),
                    response.status,
                )
            )
            return response

        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post(INVOKE_PATH, invoke)
        return app

    async def _answer(self, handler, payload: bytes, failure: tuple | None) -> web.Response:
        if failure is not None and isinstance(failure[0], int):
            status, error_type, body = failure
            return web.json_response(
                body,
                status=status,
                headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": "test-request"},
            )
        if failure == UNHANDLED:
            return web.json_response(
                {"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": []},
                headers={"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"},
            )
        event = json.loads(payload)
        assert event[DIRECT_INVOKE_KEY] == DIRECT_INVOKE_VERSION, event
        reply = await handler.handle_async(base64.b64decode(event["body"]))
        if failure == PROXY_500:
            result = http_response(500, b"KeyError: 'count'", "text/plain")
        elif failure == WRONG_CONTENT_TYPE:
            result = http_response(200, reply, "application/json")
        else:
            result = http_response(200, reply)
        return web.json_response(result, headers={"X-Amz-Executed-Version": "$LATEST"})
