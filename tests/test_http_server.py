"""baton.http_server on loopback: raw sockets for wire-level cases, aiohttp's client, and
aiohttp's router as the reference for how the playground ingress splits and decodes paths."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from baton import http_server
from baton.http_server import Handler, HttpServer, Request, Response
from tests.conftest import serve_app

HOST = "127.0.0.1"
Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Serve = Callable[..., Awaitable[int]]
Connect = Callable[[int], Awaitable[Streams]]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


async def read_reply(reader: asyncio.StreamReader, *, head: bool = False) -> Reply:
    """One response, framed by its Content-Length (no body for a HEAD or without one)."""
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *lines = raw[:-4].decode("latin-1").split("\r\n")
    version, status, _ = status_line.split(" ", 2)
    assert version == "HTTP/1.1"
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    length = int(headers.get("content-length", "0"))
    body = b"" if head else await asyncio.wait_for(reader.readexactly(length), 5)
    return Reply(int(status), headers, body)


async def assert_closed(reader: asyncio.StreamReader) -> None:
    """The server closes the connection, sending nothing more."""
    assert await asyncio.wait_for(reader.read(), 5) == b""


def request(method: str, target: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"",
            version: str = "1.1") -> bytes:
    head = [f"{method} {target} HTTP/{version}", "Host: test"]
    head += [f"{name}: {value}" for name, value in headers]
    if body:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def echo(request: Request) -> Response:
    if request.path == "/boom":
        raise RuntimeError("boom")
    seen = {"method": request.method, "path": request.path, "query": request.query,
            "headers": request.headers, "body": request.body.decode("latin-1"),
            "x": request.header("x-multi"), "xs": request.header_values("x-multi"),
            "connected": request.connected}
    return Response(201, json.dumps(seen).encode(), [("X-Echo", "yes")], "application/json")


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[HttpServer] = []

    async def start(handler: Handler = echo, **options: int) -> int:
        server = HttpServer(handler, **options)
        servers.append(server)
        host, port = await server.start(HOST, 0)
        assert host == HOST
        return port

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    writers: list[asyncio.StreamWriter] = []

    async def open_(port: int) -> Streams:
        reader, writer = await asyncio.open_connection(HOST, port)
        writers.append(writer)
        return reader, writer

    yield open_
    for writer in writers:
        writer.close()


async def test_keep_alive_many_requests_one_connection(serve: Serve, connect: Connect) -> None:
    reader, writer = await connect(await serve())
    sent = [("PUT", "/ns/type/id", "a=1&b=%2F", b"hello"), ("GET", "/x", "", b""),
            ("POST", "/%C3%A9/y", "q", b"\x00\xff" * 10)]
    for method, path, query, body in sent:
        target = f"{path}?{query}" if query else path
        writer.write(request(method, target, [("X-Multi", "1"), ("x-MULTI", "2")], body))
        reply = await read_reply(reader)
        assert reply.status == 201 and "date" in reply.headers and "connection" not in reply.headers
        assert [reply.headers.get(h) for h in ("content-length", "content-type", "x-echo")] == [
            str(len(reply.body)), "application/json", "yes"]
        seen = reply.json()
        assert (seen["method"], seen["path"], seen["query"]) == (method, path, query)
        assert seen["body"] == body.decode("latin-1")
        assert (seen["x"], seen["xs"], seen["connected"]) == ("1", ["1", "2"], True)
        assert ["host", "test"] in seen["headers"]


async def test_date_header_is_the_current_time(serve: Serve, connect: Connect) -> None:
    reader, writer = await connect(await serve())
    writer.write(request("GET", "/"))
    date = (await read_reply(reader)).headers["date"]
    assert abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time()) < 60, date


async def test_aiohttp_client_with_a_chunked_body(serve: Serve) -> None:
    port = await serve()

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    async with aiohttp.ClientSession() as session, session.put(
        f"http://{HOST}:{port}/a/b", params={"k": "v w"}, data=chunks()
    ) as response:
        assert response.status == 201
        seen = await response.json()
    assert seen["body"] == "one two three" and seen["query"] == "k=v+w"
    assert ["transfer-encoding", "chunked"] in seen["headers"]


async def test_pipelined_requests_overlap_and_are_answered_in_order(
    serve: Serve, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrived: list[None] = []
    third_arrived = asyncio.Event()
    original = http_server._Connection.on_message_complete

    def counting(self: http_server._Connection) -> None:
        original(self)
        arrived.append(None)
        if len(arrived) == 3:
            third_arrived.set()

    monkeypatch.setattr(http_server._Connection, "on_message_complete", counting)
    running: list[str] = []
    overlapped: list[int] = []

    async def handler(request: Request) -> Response:
        assert not running, "one handler at a time per connection"
        running.append(request.path)
        if request.path == "/1":
            await asyncio.wait_for(third_arrived.wait(), 5)
            overlapped.append(len(arrived))
        running.clear()
        return Response.text(200, request.path)

    reader, writer = await connect(await serve(handler))
    writer.write(request("GET", "/1") + request("PUT", "/2", body=b"x") + request("GET", "/3"))
    assert [(await read_reply(reader)).body for _ in range(3)] == [b"/1", b"/2", b"/3"]
    assert overlapped == [3]


async def test_chunked_request_body_is_decoded(serve: Serve, connect: Connect) -> None:
    reader, writer = await connect(await serve())
    writer.write(request("POST", "/c", [("Transfer-Encoding", "chunked")])
                 + b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
    writer.write(request("GET", "/after"))
    assert (await read_reply(reader)).json()["body"] == "hello world"
    assert (await read_reply(reader)).json()["path"] == "/after"


async def test_expect_100_continue(serve: Serve, connect: Connect) -> None:
    reader, writer = await connect(await serve())
    writer.write(request("PUT", "/e", [("Expect", "100-continue"), ("Content-Length", "4")]))
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"body")
    reply = await read_reply(reader)
    assert reply.status == 201 and reply.json()["body"] == "body"


CHUNKED = [("Transfer-Encoding", "chunked")]


@pytest.mark.parametrize("at_limit, over_limit, status", [
    # max_body=16; a Content-Length over it is answered without waiting for the body
    (request("PUT", "/", body=b"x" * 16),
     request("PUT", "/", [("Expect", "100-continue"), ("Content-Length", "17")]), 413),
    (request("PUT", "/", CHUNKED) + b"10\r\n0123456789abcdef\r\n0\r\n\r\n",
     request("PUT", "/", CHUNKED) + b"a\r\n0123456789\r\na\r\n0123456789\r\n", 413),
    (request("GET", "/" + "a" * (8 * 1024 - 1)), request("GET", "/" + "a" * 8 * 1024), 414),
    (request("GET", "/", [(f"X-{i}", "v") for i in range(99)]),  # + Host: 100 headers
     request("GET", "/", [(f"X-{i}", "v") for i in range(100)]), 431),
], ids=["content-length", "chunked", "url", "headers"])
async def test_limits(serve: Serve, connect: Connect, at_limit: bytes, over_limit: bytes,
                      status: int) -> None:
    reader, writer = await connect(await serve(max_body=16))
    writer.write(at_limit)
    assert (await read_reply(reader)).status == 201
    writer.write(over_limit)
    reply = await read_reply(reader)
    assert (reply.status, reply.headers.get("connection")) == (status, "close"), reply.body
    await assert_closed(reader)


async def test_malformed_request_is_400_and_closes(serve: Serve, connect: Connect) -> None:
    reader, writer = await connect(await serve())
    writer.write(request("GET", "/ok") + b"NOT HTTP AT ALL\r\n\r\n" + request("GET", "/never"))
    assert (await read_reply(reader)).status == 201
    reply = await read_reply(reader)
    assert (reply.status, reply.headers.get("connection")) == (400, "close")
    await assert_closed(reader)


async def test_handler_error_is_500_and_the_connection_goes_on(
    serve: Serve, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await connect(await serve())
    writer.write(request("GET", "/boom"))
    reply = await read_reply(reader)
    assert reply.status == 500 and "connection" not in reply.headers
    assert "RuntimeError: boom" in caplog.text
    writer.write(request("GET", "/next"))
    assert (await read_reply(reader)).json()["path"] == "/next"


async def test_head_has_the_length_but_no_body(serve: Serve, connect: Connect) -> None:
    async def handler(request: Request) -> Response:
        return Response.text(200, f"{request.method} {request.path}".ljust(20, "."))

    reader, writer = await connect(await serve(handler))
    writer.write(request("HEAD", "/h") + request("GET", "/after"))
    head = await read_reply(reader, head=True)
    assert (head.status, head.headers.get("content-length")) == (200, "20")
    after = await read_reply(reader)  # parses only if the HEAD answer had no body bytes
    assert (after.status, after.body) == (200, b"GET /after..........")


@pytest.mark.parametrize("version, headers", [("1.0", []), ("1.1", [("Connection", "close")])])
async def test_connection_not_kept_alive(serve: Serve, connect: Connect, version: str,
                                         headers: list[tuple[str, str]]) -> None:
    reader, writer = await connect(await serve())
    writer.write(request("GET", "/", headers, version=version))
    reply = await read_reply(reader)
    assert (reply.status, reply.headers.get("connection")) == (201, "close")
    await assert_closed(reader)


async def test_client_disconnect_cancels_the_handler(serve: Serve, connect: Connect) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handler(request: Request) -> Response:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    _, writer = await connect(await serve(handler))
    writer.write(request("GET", "/"))
    await asyncio.wait_for(started.wait(), 5)
    writer.close()
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_close_lets_running_handler_answer_refuses_new(connect: Connect) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def handler(request: Request) -> Response:
        started.set()
        await asyncio.wait_for(release.wait(), 5)
        return Response.text(200, "finished")

    server = HttpServer(handler)
    _, port = await server.start(HOST, 0)
    reader, writer = await connect(port)
    writer.write(request("GET", "/"))
    await asyncio.wait_for(started.wait(), 5)
    closing_started = asyncio.Event()

    async def close() -> None:
        closing_started.set()
        await server.close()  # stops listening before its first await

    closing = asyncio.create_task(close())
    await asyncio.wait_for(closing_started.wait(), 5)
    with pytest.raises(ConnectionRefusedError):  # no longer listening, while still answering
        await connect(port)
    assert not closing.done()
    release.set()
    assert (await read_reply(reader)).body == b"finished"
    await assert_closed(reader)
    await asyncio.wait_for(closing, 5)
    with pytest.raises(ConnectionRefusedError):
        await connect(port)


async def test_idle_keep_alive_connections_are_closed(
    serve: Serve, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_server, "KEEPALIVE_S", 0.2)
    release = asyncio.Event()

    async def handler(request: Request) -> Response:
        if request.path == "/busy":
            await asyncio.wait_for(release.wait(), 5)
        return Response.text(200, request.path)

    port = await serve(handler)
    busy_reader, busy_writer = await connect(port)
    busy_writer.write(request("GET", "/busy"))
    reader, writer = await connect(port)
    writer.write(request("GET", "/idle"))
    assert (await read_reply(reader)).body == b"/idle"
    await assert_closed(reader)
    release.set()  # a connection whose handler runs is not idle: it still gets its answer
    assert (await read_reply(busy_reader)).body == b"/busy"


@pytest.fixture
async def both(serve: Serve) -> AsyncIterator[tuple[int, int]]:
    """Ports of an HttpServer answering path_segments() and of aiohttp's router as reference."""

    async def segments(request: Request) -> Response:
        return Response(200, json.dumps(request.path_segments()).encode())

    async def route(request: web.Request) -> web.Response:
        return web.json_response([request.match_info[k] for k in ("namespace", "type", "id")])

    app = web.Application()
    app.router.add_route("*", "/{namespace}/{type}/{id}", route)
    runner, _ = await serve_app(app)
    yield await serve(segments), runner.addresses[0][1]
    await runner.cleanup()


async def segments_of(port: int, target: str) -> tuple[int, object]:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(request("PUT", target, [("Connection", "close")], b"{}"))
    reply = await read_reply(reader)
    writer.close()
    return reply.status, json.loads(reply.body) if reply.status == 200 else None


@pytest.mark.parametrize("target", [
    "/ns/type/id", "/ns/type/hello%20world", "/ns/type/a%2Fb", "/ns/type/a%2fb",
    "/ns/type/caf%C3%A9", "/n%73/f%C3%BCn/a+b", "/ns/type/id?x=1&y=%2F", "/ns/type/id?",
    "/ns/type/100%25", "/ns/type/%252F", "/ns/type/a%3Fb", "/ns/type/a;b", "/ns/type/%2E%2E",
    "/ns/type/%", "/ns/type/%00",
    # divergences: invalid UTF-8 in a percent-escape (aiohttp keeps it), a fragment
    "/ns/type/%FF", "/ns/type/%C3", "/ns/type/id#frag",
])
async def test_path_segments_match_aiohttp_router(both: tuple[int, int], target: str) -> None:
    ours, reference = both
    status, expected = await segments_of(reference, target)
    assert status == 200
    assert await segments_of(ours, target) == (200, expected)


@pytest.mark.parametrize("target", [
    "/ns/type/id/", "/ns//id", "//type/id", "/ns/type/", "/ns/type", "/ns/type/id/x", "/",
    "/ns/./type/id", "/ns/x/../type/id",
])
async def test_unrouted_paths_are_rejected(both: tuple[int, int], target: str) -> None:
    ours, reference = both
    assert (await segments_of(reference, target))[0] == 404
    status, segments = await segments_of(ours, target)
    assert status == 200 and isinstance(segments, list)
    assert len(segments) != 3 or not all(segments)  # what ingress_handler answers 400 to


async def test_absolute_form_request_target(serve: Serve, connect: Connect) -> None:
    port = await serve()
    reader, writer = await connect(port)
    writer.write(request("PUT", f"http://{HOST}:{port}/a/b/c?x=1", body=b"v"))
    seen = (await read_reply(reader)).json()
    assert (seen["path"], seen["query"]) == ("/a/b/c", "x=1")
