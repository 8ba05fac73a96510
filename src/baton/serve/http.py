"""Serve official-SDK functions over HTTP with aiohttp."""

from __future__ import annotations

import logging
from collections import OrderedDict

from aiohttp import web
from statefun import RequestReplyHandler, StatefulFunctions

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/octet-stream"
_REMEMBERED_ERRORS = 256


def function_app(
    functions: StatefulFunctions, path: str = "/statefun", max_body: int = 32 * 1024 * 1024
) -> web.Application:
    """An aiohttp app answering StateFun invocation batches on `path`.

    The body cap is 32 MiB (aiohttp's default 1 MiB would reject batches that carry large state).
    """
    handler = RequestReplyHandler(functions)
    seen: OrderedDict[str, None] = OrderedDict()  # errors whose traceback was logged

    async def invoke(request: web.Request) -> web.Response:
        try:
            reply = await handler.handle_async(await request.read())
        except Exception as error:  # the runtime retries the batch; say why in the log and body
            why = f"{type(error).__name__}: {error}"
            if why in seen:  # the runtime retries: one traceback per distinct error is enough
                log.debug("function failed on %s again: %s", request.path, why)
            else:
                log.exception("function failed on %s", request.path)
                seen[why] = None
                if len(seen) > _REMEMBERED_ERRORS:
                    seen.popitem(last=False)
            return web.Response(status=500, text=why)
        return web.Response(body=reply, content_type=CONTENT_TYPE)

    app = web.Application(client_max_size=max_body)
    app.router.add_post(path, invoke)
    return app
