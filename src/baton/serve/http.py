"""Serve official-SDK functions over HTTP: on baton's lean server, or mounted in an aiohttp app.

`serve_functions` is what `baton serve` (and `baton run --serve`, `baton.testing`) listen with:
`baton.http_server`, which costs less per invocation batch than an aiohttp handler around the
same SDK call (`bench/function_server.py` measures both). `function_app` is the aiohttp app,
for a project that mounts its functions beside its own aiohttp routes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections import OrderedDict

from aiohttp import web
from statefun import RequestReplyHandler, StatefulFunctions

from baton.http_server import Handler, HttpServer, Request, Response

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/octet-stream"
MAX_BODY = 32 * 1024 * 1024  # aiohttp's default 1 MiB would reject batches with large state
_REMEMBERED_ERRORS = 256


class InvocationEndpoint:
    """Answers StateFun invocation batches with the SDK's handler: a ToFunction body in, a
    FromFunction out, or a 500 saying why the function failed (the runtime retries it)."""

    def __init__(self, functions: StatefulFunctions) -> None:
        self._handler = RequestReplyHandler(functions)
        self._seen: OrderedDict[str, None] = OrderedDict()  # errors whose traceback was logged

    async def answer(self, body: bytes, path: str) -> Response:
        try:
            return Response(200, await self._handler.handle_async(body), content_type=CONTENT_TYPE)
        except Exception as error:
            why = f"{type(error).__name__}: {error}"
            if why in self._seen:  # the runtime retries: one traceback per distinct error is enough
                log.debug("function failed on %s again: %s", path, why)
            else:
                log.exception("function failed on %s", path)
                self._seen[why] = None
                if len(self._seen) > _REMEMBERED_ERRORS:
                    self._seen.popitem(last=False)
            return Response.text(500, why)


def function_handler(functions: StatefulFunctions, path: str = "/statefun") -> Handler:
    """An `HttpServer` handler answering invocation batches POSTed to `path`."""
    endpoint = InvocationEndpoint(functions)

    async def invoke(request: Request) -> Response:
        if request.path != path:
            return Response.text(404, f"nothing here: invocation batches go to POST {path}")
        if request.method != "POST":
            return Response.text(405, f"{request.method} {path}: use POST", [("Allow", "POST")])
        return await endpoint.answer(request.body, path)

    return invoke


async def serve_functions(
    functions: StatefulFunctions, host: str = "127.0.0.1", port: int = 0, path: str = "/statefun",
    *, sock: socket.socket | None = None,
) -> tuple[HttpServer, str]:
    """Serve `functions` on host:port (or an already bound `sock`); the server and its URL."""
    server = HttpServer(function_handler(functions, path), max_body=MAX_BODY)
    bound_host, bound_port = await server.start(host, port, sock=sock)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return server, f"http://{shown}:{bound_port}{path}"


async def stop_signalled() -> None:
    """Return once the process gets SIGINT or SIGTERM (how `baton serve` runs until stopped)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def function_app(
    functions: StatefulFunctions, path: str = "/statefun", max_body: int = MAX_BODY
) -> web.Application:
    """An aiohttp app answering StateFun invocation batches on `path`."""
    endpoint = InvocationEndpoint(functions)

    async def invoke(request: web.Request) -> web.Response:
        answer = await endpoint.answer(await request.read(), request.path)
        return web.Response(
            status=answer.status, body=answer.body, headers={"Content-Type": answer.content_type or ""}
        )

    app = web.Application(client_max_size=max_body)
    app.router.add_post(path, invoke)
    return app
