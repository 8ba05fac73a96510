"""The load generator of `bench.http_ingress`: concurrent keep-alive senders, one message per PUT.

Runs in its own process so its CPU is not baton's. Each sender owns one connection and has one
request outstanding at a time, as a pool of HTTP clients does. The client is a minimal HTTP/1.1
protocol (Content-Length framing only, what the playground ingress answers) so the generator
spends as little of the shared cores as possible. A 429/503 is retried after a short pause.

Protocol with the orchestrator: prints `ready` once every connection is open, waits for a line
on stdin, sends, then prints one JSON object (acknowledged count, statuses, latencies, CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator

import psutil
from statefun import IntType

from bench.processes import cpu_seconds, use_uvloop

CONTENT_TYPE = f"application/vnd.{IntType.typename}"
ONE = IntType.serializer().serialize(1)


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight (Content-Length
    framing only: what the playground ingress and both function servers answer with)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            self.answer_with(ConnectionError(f"a response without Content-Length: {head!r}"))
            return
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4: end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.answer_with((int(head[9:12]), body))

    def answer_with(self, result: tuple[int, bytes] | Exception) -> None:
        if self.answer is None or self.answer.done():  # the next request fails on connection_lost
            assert self.transport is not None
            self.transport.close()
            return
        if isinstance(result, Exception):
            self.answer.set_exception(result)
        else:
            self.answer.set_result(result)

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return await self.answer


def request_bytes(target_id: str, key: str | None) -> bytes:
    headers = (
        f"PUT /bench/counter/{target_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {len(ONE)}\r\n"
    )
    if key is not None:
        headers += f"Idempotency-Key: {key}\r\n"
    return headers.encode() + b"\r\n" + ONE


async def send_all(
    port: int, ids: list[str], messages: int, senders: int, keys: bool, key_prefix: str,
    wait_for_go: bool,
) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(senders):
        _, connection = await loop.create_connection(Connection, "127.0.0.1", port)
        connections.append(connection)
    if wait_for_go:
        print("ready", flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    numbers: Iterator[int] = iter(range(messages))
    me = psutil.Process()
    cpu_before = cpu_seconds(me)

    async def sender(connection: Connection) -> None:
        for n in numbers:
            payload = request_bytes(ids[n % len(ids)], f"{key_prefix}-{n}" if keys else None)
            while True:
                started = time.perf_counter()
                status, _ = await connection.request(payload)
                statuses[status] += 1
                if status not in (429, 503):
                    break
                await asyncio.sleep(0.01)  # refused: the target or runtime is full, try again
            latencies.append(time.perf_counter() - started)

    started_at = time.time()
    await asyncio.gather(*(sender(c) for c in connections))
    finished_at = time.time()
    for connection in connections:
        assert connection.transport is not None
        connection.transport.close()
    return {
        "started_at": started_at,
        "acked_at": finished_at,
        "statuses": {str(k): v for k, v in statuses.items()},
        "latencies_ms": [round(x * 1000, 4) for x in latencies],
        "cpu_s": cpu_seconds(me) - cpu_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ids", type=int, default=1000, help="distinct ids (1: one hot id)")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--keys", action="store_true", help="send an Idempotency-Key with each")
    parser.add_argument("--key-prefix", default="k")
    parser.add_argument("--wait-for-go", action="store_true")
    args = parser.parse_args()
    use_uvloop()
    ids = ["hot"] if args.ids == 1 else [str(i) for i in range(args.ids)]
    result = asyncio.run(send_all(args.port, ids, args.messages, args.senders, args.keys,
                                  args.key_prefix, args.wait_for_go))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
