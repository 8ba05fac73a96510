"""A small HTTP/1.1 server for baton's two hot paths: the playground ingress and `baton serve`.

Every message a client sends through the playground ingress, and every invocation batch a
function served by `baton serve` answers, is one HTTP request; aiohttp's server spent more CPU
per request on them than everything else baton does per message but the function call (see
`bench/http_ingress.py`, `bench/function_server.py` and the README's Benchmarks). This server
does only what those two endpoints need, on `httptools` (the llhttp parser that Node.js and
uvicorn use): Content-Length and chunked request bodies, `Expect: 100-continue`, keep-alive and
pipelining (answered in order, one handler at a time per connection), bounded request lines,
headers and bodies, idle connections closed, and a handler cancelled when its client goes away.
Everything else (the admin API, the console, the egress) stays on aiohttp.

A handler is `async (Request) -> Response`; the server answers 500 when one raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import httptools
from yarl import URL

log = logging.getLogger(__name__)

MAX_URL = 8 * 1024
MAX_HEADERS = 100
MAX_HEADER_BYTES = 64 * 1024
KEEPALIVE_S = 75.0  # an idle connection is closed after this long (as aiohttp does)
SHUTDOWN_S = 10.0  # on close, handlers still running get this long to answer
_PIPELINED = 16  # reading pauses while this many requests of one connection wait their turn


@dataclass(slots=True)
class Request:
    """One request: its method, path (still percent-encoded, no query), headers, whole body."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]  # (lower-case name, value), in arrival order
    body: bytes
    _protocol: _Connection

    def header(self, name: str) -> str | None:
        """The first value of a header (`name` in lower case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header (`name` in lower case), in order."""
        return [value for key, value in self.headers if key == name]

    def path_segments(self) -> list[str]:
        """The path's segments between '/', each percent-decoded (so `%2F` stays in its segment)."""
        return [_decode(segment) for segment in self.path[1:].split("/")]

    @property
    def connected(self) -> bool:
        """Whether the client is still there to receive the answer."""
        transport = self._protocol.transport
        return transport is not None and not transport.is_closing()


@dataclass(frozen=True, slots=True)
class Response:
    """A complete answer: status, body, and headers besides Content-Length and Date."""

    status: int
    body: bytes = b""
    headers: Iterable[tuple[str, str]] = ()
    content_type: str | None = None

    @classmethod
    def text(cls, status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
        return cls(status, text.encode(), headers, "text/plain; charset=utf-8")


Handler = Callable[[Request], Awaitable[Response]]


def _decode(segment: str) -> str:
    """A percent-decoded path segment, as aiohttp's router decodes it (an escape that is not
    UTF-8 stays as it is, so distinct ids never collapse into one)."""
    if "%" not in segment:
        return segment
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return URL.build(path="/" + segment, encoded=True).path[1:]


_REASONS = {status.value: status.phrase.encode("latin-1") for status in HTTPStatus}


class _Date:
    """The Date header, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._line = b""

    def line(self, now: float) -> bytes:
        second = int(now)
        if second != self._second:
            self._second = second
            self._line = b"Date: %s\r\n" % email.utils.formatdate(now, usegmt=True).encode()
        return self._line


def _head(status: int, response: Response, date: bytes, close: bool) -> bytes:
    lines = [b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (
        status, _REASONS.get(status, b"Unknown"), len(response.body)), date]
    if response.content_type is not None:
        lines.append(b"Content-Type: %s\r\n" % response.content_type.encode("latin-1"))
    for name, value in response.headers:
        lines.append(b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1")))
    if close:
        lines.append(b"Connection: close\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


class _Refusal(Exception):
    """A request the server answers itself (and then closes the connection)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class _Connection(asyncio.Protocol):
    """One client connection: parses requests, runs the handler on them in order, answers."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._loop = server.loop
        self._parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        # (request, keep-alive); a Response where the server answers for itself (a refusal)
        self._pending: deque[tuple[Request | Response, bool]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._failed = False  # a malformed or refused request: nothing more is read
        self._paused = False
        self.last_active = 0.0
        # The request being parsed.
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._header_bytes = 0
        self._in_body = False  # headers seen: what on_header reports now are chunked trailers
        self._body: list[bytes] = []
        self._body_size = 0

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport
        self.last_active = self._loop.time()
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._pending.clear()
        if self._task is not None:
            self._task.cancel()  # nobody is left to answer: stop waiting on their behalf

    def data_received(self, data: bytes) -> None:
        if self._failed:
            return
        self.last_active = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades are not supported here")
        except httptools.HttpParserError as error:
            refusal = error.__context__  # httptools wraps what a callback raised
            if isinstance(refusal, _Refusal):
                self._refuse(refusal.status, str(refusal))
            else:
                self._refuse(400, f"malformed HTTP request: {error}")

    # --- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._header_bytes = 0
        self._in_body = False
        self._body = []
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_URL:
            raise _Refusal(414, f"the request target is longer than {MAX_URL} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_body:
            return  # a trailer of a chunked body: never taken for a header the handler reads
        self._header_bytes += len(name) + len(value)
        if len(self._headers) >= MAX_HEADERS or self._header_bytes > MAX_HEADER_BYTES:
            raise _Refusal(
                431, f"more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes of headers"
            )
        self._headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._in_body = True
        expects = False
        for name, value in self._headers:
            if name == "content-length":
                length = int(value)  # llhttp has checked it is a number
                if length > self._server.max_body:
                    raise _Refusal(413, self._too_large(length))
            elif name == "expect":
                expects = value.lower() == "100-continue"
        # The body is welcome. Not while earlier requests await their answer: it would come
        # before theirs (a client that pipelines and expects sends its body after a pause).
        if expects and self.idle and self._parser.get_http_version() == "1.1" and self.transport:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._server.max_body:
            raise _Refusal(413, self._too_large(self._body_size))
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._url.startswith(b"/"):
            target = self._url.decode("latin-1")
            path, _, query = target.partition("?")
            path = path.partition("#")[0]
        else:  # absolute form (`PUT http://host/a/b/c`), or `*`
            try:
                url = httptools.parse_url(self._url)
                path = (url.path or b"/").decode("latin-1")
                query = (url.query or b"").decode("latin-1")
            except httptools.HttpParserInvalidURLError:
                path, query = self._url.decode("latin-1"), ""
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        parser = self._parser
        request = Request(parser.get_method().decode("ascii"), path, query, self._headers, body, self)
        self._pending.append((request, parser.should_keep_alive()))
        if self._task is None:
            self._task = self._loop.create_task(self._answer())
        elif len(self._pending) >= _PIPELINED and self.transport is not None:
            self.transport.pause_reading()  # a client pipelining ahead: let it wait
            self._paused = True

    # --- answering -------------------------------------------------------------------------

    async def _answer(self) -> None:
        """Answer waiting requests in order, then end (a new request starts a new task)."""
        pending, handler = self._pending, self._server.handler
        while pending:
            request, keep_alive = pending.popleft()
            if isinstance(request, Response):
                response = request
            else:
                try:
                    response = await handler(request)
                except Exception:
                    log.exception("the handler of %s %s failed", request.method, request.path)
                    response = Response.text(500, "internal error (see the server's log)")
            transport = self.transport
            if transport is None or transport.is_closing():
                break
            self.last_active = self._loop.time()
            head = _head(response.status, response, self._server.date.line(time.time()), not keep_alive)
            if isinstance(request, Request) and request.method == "HEAD":
                transport.write(head)  # the length of the body a GET would get, and no body
            else:
                transport.write(head + response.body)
            if not keep_alive:
                transport.close()
                break
            if self._paused and len(pending) < _PIPELINED // 2:
                self._paused = False
                transport.resume_reading()
        self._task = None

    def _refuse(self, status: int, reason: str) -> None:
        """Answer (after the requests before it) for a request the handler never sees; then close."""
        self._failed = True
        self._pending.append((Response.text(status, reason), False))
        if self._task is None:
            self._task = self._loop.create_task(self._answer())

    def _too_large(self, size: int) -> str:
        return f"the request body ({size} bytes) is larger than {self._server.max_body} bytes"

    @property
    def answering(self) -> asyncio.Task[None] | None:
        """The task answering this connection's requests, while there is one."""
        return self._task

    @property
    def idle(self) -> bool:
        return self._task is None and not self._pending

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class HttpServer:
    """A listening socket whose requests go to `handler`; `start()` it, `close()` it."""

    def __init__(self, handler: Handler, *, max_body: int = 32 * 1024 * 1024) -> None:
        self.handler = handler
        self.max_body = max_body
        self.loop = asyncio.get_running_loop()
        self.date = _Date()
        self.connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(
        self, host: str | None = None, port: int = 0, *, sock: socket.socket | None = None
    ) -> tuple[str, int]:
        """Listen on host:port (0: any free port) or on an already bound `sock`; returns the
        address bound."""
        if sock is not None:
            self._server = await self.loop.create_server(lambda: _Connection(self), sock=sock)
        else:
            self._server = await self.loop.create_server(
                lambda: _Connection(self), host, port, reuse_address=True
            )
        self._sweeper = self.loop.create_task(self._close_idle())
        sockname: Any = self._server.sockets[0].getsockname()
        return sockname[0], sockname[1]

    async def _close_idle(self) -> None:
        """Close keep-alive connections idle for KEEPALIVE_S (one sweep instead of a timer per
        request, which would cost on every request of the hot path)."""
        while True:
            await asyncio.sleep(KEEPALIVE_S / 4)
            cutoff = self.loop.time() - KEEPALIVE_S
            for connection in [c for c in self.connections if c.idle and c.last_active < cutoff]:
                connection.close()

    async def close(self) -> None:
        """Stop listening, let running handlers answer (up to SHUTDOWN_S), close every connection."""
        if self._server is None:
            return
        self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        busy = [c.answering for c in self.connections if c.answering is not None]
        if busy:
            await asyncio.wait(busy, timeout=SHUTDOWN_S)
        for connection in list(self.connections):
            connection.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), SHUTDOWN_S)
        self._server = None


__all__ = ["Handler", "HttpServer", "Request", "Response"]
