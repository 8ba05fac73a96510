"""A lean HTTP/1.1 keep-alive client for plain-`http://` function calls: the hot path.

Every invocation batch is one POST to a function, so the client's own cost is paid per batch:
aiohttp's client spent ~160 µs of CPU per sequential call on the 2-core dev machine where this
one spends ~50 µs; under `bench.http_ingress` (1,000 ids) baton's CPU per message fell by a
third. This client does only what a StateFun function call needs: one request at a time per
pooled connection, a response framed by Content-Length, chunked encoding or the connection's
close. `https://` URLs (Lambda Function URLs) stay on aiohttp.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from yarl import URL


class Reply(NamedTuple):
    status: int
    content_type: str
    body: bytes


class Target(NamedTuple):
    """Where a URL's requests go, and the start of their request line and headers."""

    host: str
    port: int
    head: bytes  # "POST <path> HTTP/1.1\r\nHost: ...\r\n"


@lru_cache(maxsize=1024)
def plain_http_target(url: str) -> Target | None:
    """The target of an `http://` URL; None for anything else (served by aiohttp instead)."""
    parsed = URL(url)
    if parsed.scheme != "http" or not parsed.raw_host or parsed.port is None or parsed.user:
        return None
    host = parsed.raw_host
    authority = f"[{host}]" if ":" in host else host
    if parsed.port != 80:  # as aiohttp (and curl) write it
        authority += f":{parsed.port}"
    head = f"POST {parsed.raw_path_qs or '/'} HTTP/1.1\r\nHost: {authority}\r\n"
    return Target(host, parsed.port, head.encode("ascii"))


class ConnectionClosed(ConnectionError):
    """The server closed the connection before its response was complete."""


class _Connection(asyncio.Protocol):
    """One connection; at most one request in flight, its reply parsed as bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reply: asyncio.Future[tuple[Reply, bool]] | None = None
        self.idle_since = 0.0
        self.open = True
        self._buffer = bytearray()
        self._until_close = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        reply = self.reply
        if reply is not None and not reply.done():
            if self._until_close and exc is None:  # the body ended with the connection
                self._until_close = False
                self._parse(closed=True)
            if not reply.done():
                reply.set_exception(ConnectionClosed(
                    f"the server closed the connection{f' ({exc})' if exc else ''} "
                    "before its response was complete"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self.reply is None or self.reply.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted any more
            return
        self._parse(closed=False)

    def send(self, request: bytes) -> asyncio.Future[tuple[Reply, bool]]:
        assert self.transport is not None
        self.reply = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.reply

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()

    def _parse(self, *, closed: bool) -> None:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            self._fail(f"not an HTTP response: {lines[0][:80]!r}")
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close" and lines[0].startswith("HTTP/1.1")
        start = end + 4
        if 100 <= status < 200:  # an interim response (e.g. 100 Continue): the real one follows
            del buffer[:start]
            self._parse(closed=closed)
            return
        if "chunked" in headers.get("transfer-encoding", "").lower():
            try:
                framed = _dechunk(buffer, start)
            except ValueError:
                self._fail("bad chunk size in a chunked response")
                return
            if framed is None:
                return
            body, used = framed
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                self._fail(f"bad Content-Length {headers['content-length']!r}")
                return
            if len(buffer) < start + length:
                return
            body, used = bytes(buffer[start : start + length]), start + length
        elif status in (204, 304):
            body, used = b"", start
        else:  # delimited by the end of the connection
            if not closed:
                self._until_close = True
                return
            body, used, keep_alive = bytes(buffer[start:]), len(buffer), False
        del buffer[:used]
        assert self.reply is not None
        self.reply.set_result((Reply(status, headers.get("content-type", ""), body), keep_alive))

    def _fail(self, why: str) -> None:
        assert self.reply is not None
        self.reply.set_exception(ConnectionError(why))
        self.close()


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a complete chunked message at `start` and where it ends; None if incomplete.

    Only the chunk-size lines are scanned until the message is complete (a large reply arrives
    in many reads); the data is copied once, at the end.
    """
    spans: list[tuple[int, int]] = []
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buffer[pos:line_end]).split(b";", 1)[0], 16)  # ValueError: not HTTP
        pos = line_end + 2
        if size == 0:
            while True:  # trailers, up to an empty line
                line_end = buffer.find(b"\r\n", pos)
                if line_end < 0:
                    return None
                empty = line_end == pos
                pos = line_end + 2
                if empty:
                    return b"".join(bytes(buffer[a:b]) for a, b in spans), pos
        if len(buffer) < pos + size + 2:
            return None
        spans.append((pos, pos + size))
        pos += size + 2


@dataclass
class KeepAlivePool:
    """Connections per (host, port), at most `limit` in use at once (None: unbounded), idle
    ones closed after `keepalive_s` (None: kept).

    The common path (a free slot, an idle connection) arms one timer for the deadline and
    awaits one future: no semaphore, no `asyncio.timeout` context, which cost ~10 µs per call.
    """

    limit: int | None
    keepalive_s: float | None

    def __post_init__(self) -> None:
        self._idle: dict[tuple[str, int], deque[_Connection]] = {}
        self._in_use = 0
        self._waiting: deque[asyncio.Future[None]] = deque()  # callers waiting for a slot
        self._all: set[_Connection] = set()

    async def post(
        self, target: Target, headers: bytes, body: bytes, connect_timeout: float, deadline: float
    ) -> Reply:
        """POST `body` with `headers` (CRLF-terminated lines), done by `deadline` (loop time)
        or TimeoutError."""
        loop = asyncio.get_running_loop()
        if self.limit is not None and self._in_use >= self.limit:
            async with asyncio.timeout_at(deadline):
                await self._slot(loop)
        self._in_use += 1
        try:
            connection = self._idle_connection(target, loop.time())
            if connection is None:
                remaining = deadline - loop.time()
                async with asyncio.timeout(min(connect_timeout, remaining) if connect_timeout else remaining):
                    _, connection = await loop.create_connection(_Connection, target.host, target.port)
                self._all.add(connection)
            request = b"%sContent-Length: %d\r\n%s\r\n%s" % (target.head, len(body), headers, body)
            reply = connection.send(request)
            timer = loop.call_at(deadline, _time_out, reply)
            try:
                answer, keep_alive = await reply
            except BaseException:  # cancelled, failed or late mid-request: its reply can never be matched
                connection.close()
                self._all.discard(connection)
                raise
            finally:
                timer.cancel()
            if keep_alive and connection.open:
                connection.idle_since = loop.time()
                self._idle.setdefault((target.host, target.port), deque()).append(connection)
            else:
                connection.close()
                self._all.discard(connection)
            return answer
        finally:
            self._in_use -= 1
            self._wake_next()

    async def _slot(self, loop: asyncio.AbstractEventLoop) -> None:
        while self.limit is not None and self._in_use >= self.limit:
            waiter = loop.create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake_next()  # woken, then timed out: the slot goes to the next in line
                raise

    def _wake_next(self) -> None:
        while self._waiting:  # the first caller still waiting
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _idle_connection(self, target: Target, now: float) -> _Connection | None:
        idle = self._idle.get((target.host, target.port))
        while idle:
            connection = idle.pop()  # the most recently used: least likely closed by the server
            transport = connection.transport
            fresh = self.keepalive_s is None or now - connection.idle_since < self.keepalive_s
            if connection.open and fresh and transport is not None and not transport.is_closing():
                return connection
            connection.close()
            self._all.discard(connection)
        return None

    def close(self) -> None:
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._idle.clear()


def _time_out(reply: asyncio.Future[tuple[Reply, bool]]) -> None:
    if not reply.done():
        reply.set_exception(TimeoutError())
