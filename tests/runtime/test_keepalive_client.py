"""The lean keep-alive client of plain-http function calls, against real servers on loopback:
every way an HTTP/1.1 server may frame a reply, connection reuse, and a server that hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web

from baton.module.specs import AsyncTransportSpec
from baton.runtime.transports.http import HttpTransport
from baton.runtime.transports.keepalive import KeepAlivePool, plain_http_target

OCTETS = "application/octet-stream"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}/statefun"

    yield start
    for runner in runners:
        await runner.cleanup()


def app_with(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    app = web.Application()
    app.router.add_post("/statefun", handler)
    return app


async def test_replies_framed_by_length_or_chunks_reuse_one_connection(serve) -> None:
    peers: list[object] = []

    async def chunked(request: web.Request) -> web.StreamResponse:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.read()
        if request.query.get("plain"):
            return web.Response(body=b"echo:" + body, content_type=OCTETS)
        response = web.StreamResponse(headers={"Content-Type": OCTETS})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"echo:")
        await response.write(body * 3000)  # more than one read of the socket
        await response.write_eof()
        return response

    url = await serve(app_with(chunked))
    transport = HttpTransport(AsyncTransportSpec())
    try:
        assert await transport.call(url, b"ab") == b"echo:" + b"ab" * 3000
        assert await transport.call(url + "?plain=1", b"cd") == b"echo:cd"
        assert await transport.call(url, b"e") == b"echo:" + b"e" * 3000
    finally:
        await transport.close()
    assert len(peers) == 3 and len(set(peers)) == 1, peers  # one keep-alive connection


async def test_connection_close_and_close_delimited_bodies() -> None:
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        body = await reader.readexactly(length)
        if connections == 1:  # Content-Length and Connection: close
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: %s\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (OCTETS.encode(), len(body), body))
        else:  # no length at all: the body ends with the connection
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\nuntil-close:%s"
                         % (OCTETS.encode(), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = HttpTransport(AsyncTransportSpec())
    try:
        url = f"http://127.0.0.1:{port}/statefun"
        assert await transport.call(url, b"one") == b"one"
        assert await transport.call(url, b"two") == b"until-close:two"
        assert connections == 2
    finally:
        await transport.close()
        server.close()
        await server.wait_closed()


async def test_a_server_that_hangs_up_is_a_failed_attempt_then_retried() -> None:
    attempts = 0

    async def flaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        await reader.readuntil(b"\r\n\r\n")
        if attempts == 1:
            writer.close()  # no answer at all
            return
        await reader.read(100)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 2\r\n\r\nok"
                     % OCTETS.encode())
        await writer.drain()

    server = await asyncio.start_server(flaky, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    failures: list[str] = []
    transport = HttpTransport(AsyncTransportSpec(call=timedelta(seconds=5)))
    try:
        assert await transport.call(f"http://127.0.0.1:{port}/statefun", b"x", failures.append) == b"ok"
    finally:
        await transport.close()
        server.close()
        await server.wait_closed()
    assert len(failures) == 1 and "closed the connection" in failures[0], failures


def test_only_plain_http_takes_the_lean_client() -> None:
    target = plain_http_target("http://127.0.0.1:8000/statefun?x=1")
    assert target is not None
    assert target.head == b"POST /statefun?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    default_port = plain_http_target("http://example.test/fn")
    assert default_port is not None and default_port.head.endswith(b"Host: example.test\r\n")
    assert plain_http_target("https://example.test/fn") is None



async def test_the_pool_bounds_calls_in_flight_and_one_timing_out_in_line_leaks_no_slot(
    serve,
) -> None:
    """A pool of one: a second call waits for the first; when its deadline passes while it
    waits it fails with TimeoutError without reaching the server, and the slot serves the next."""
    release = asyncio.Event()
    seen: list[bytes] = []
    in_flight = most = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        body = await request.read()
        seen.append(body)
        in_flight += 1
        most = max(most, in_flight)
        if body == b"first":
            await release.wait()
        in_flight -= 1
        return web.Response(body=body, content_type=OCTETS)

    target = plain_http_target(await serve(app_with(slow)))
    assert target is not None
    pool = KeepAlivePool(1, None)
    headers = f"Content-Type: {OCTETS}\r\n".encode()
    now = asyncio.get_running_loop().time
    try:
        first = asyncio.create_task(pool.post(target, headers, b"first", 5, now() + 10))
        await asyncio.wait_for(_until(lambda: seen == [b"first"]), 5)
        with pytest.raises(TimeoutError):
            await pool.post(target, headers, b"second", 5, now() + 0.2)
        assert not first.done()
        release.set()
        assert (await asyncio.wait_for(first, 5)).body == b"first"
        assert (await pool.post(target, headers, b"third", 5, now() + 5)).body == b"third"
    finally:
        release.set()
        pool.close()
    assert seen == [b"first", b"third"] and most == 1


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.005)
