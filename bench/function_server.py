"""What serving an SDK function costs per call: `baton serve`'s lean server against plain aiohttp.

Run: `uv run python -m bench.function_server [--calls N] [--senders 8] [--rounds 3]`.

The official-SDK counter function (`bench.counter_server`) is served two ways, each in its own
process: `baton` is `serve_functions` (baton's lean server, what `baton serve` listens with),
`aiohttp` is `function_app` run by `web.run_app` (a plain aiohttp handler around the same SDK
call). A load generator in a process of its own (this module with `--drive`) sends what the
runtime sends: POST /statefun, one serialized ToFunction per request, each an invocation batch
of one IntType message to `bench/counter` (ids spread over 1,000) with the `count` state, over
`--senders` keep-alive connections with one request outstanding on each. Every response must be
a 200 whose FromFunction holds the invocation result (the incremented count), or the run fails.

Per kind and round, after a warm-up, it prints calls/s, the server process's CPU per call (user +
system over the measured window) and the p50 latency; the two kinds alternate, `--rounds` times,
and the medians and the CPU-per-call ratio baton/aiohttp follow: the way to compare on a shared,
noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack

import psutil
from statefun import IntType
from statefun.request_reply_pb2 import FromFunction, ToFunction

from bench.http_load import Connection
from bench.processes import CounterServer, counter_server, cpu_seconds, use_uvloop

KINDS = ("baton", "aiohttp")
IDS = 1000
CONTENT_TYPE = "application/octet-stream"
_INT = IntType.serializer()


# --- the load generator (`--drive`, its own process) ---------------------------------------------


def invocation_batch(target_id: str, count: int) -> bytes:
    """A serialized ToFunction as the runtime builds it: the `count` state (stored: `count`) and
    one ingress message (no caller) carrying the int 1."""
    request = ToFunction()
    invocation = request.invocation
    invocation.target.namespace, invocation.target.type, invocation.target.id = (
        "bench", "counter", target_id)
    state = invocation.state.add()
    state.state_name = "count"
    state.state_value.typename = IntType.typename
    state.state_value.has_value = True
    state.state_value.value = _INT.serialize(count)
    entry = invocation.invocations.add()
    entry.argument.typename = IntType.typename
    entry.argument.has_value = True
    entry.argument.value = _INT.serialize(1)
    return request.SerializeToString()


def http_request(port: int, body: bytes) -> bytes:
    """The POST as baton's runtime sends it (its lean keep-alive client's head and headers)."""
    return (
        f"POST /statefun HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nAccept: {CONTENT_TYPE}\r\n\r\n"
    ).encode() + body


def check_reply(status: int, body: bytes, expected: int) -> None:
    """Fail loudly unless the reply is a 200 FromFunction holding the invocation result."""
    if status != 200:
        raise RuntimeError(f"the function server answered {status}: {body[:300]!r}")
    reply = FromFunction.FromString(body)
    if not reply.HasField("invocation_result"):
        raise RuntimeError(f"no invocation_result in the FromFunction: {reply}")
    mutations = reply.invocation_result.state_mutations
    if (len(mutations) != 1 or mutations[0].state_name != "count"
            or _INT.deserialize(mutations[0].state_value.value) != expected):
        raise RuntimeError(f"expected count := {expected}, got {list(mutations)}")


async def drive(port: int, server_pid: int, calls: int, warmup: int, senders: int) -> dict[str, float]:
    """Warm up, then send `calls` batches; the measured window's figures."""
    loop = asyncio.get_running_loop()
    # Id i's stored count is i: its reply must set count to i + 1 (a mixed-up reply shows).
    requests = [http_request(port, invocation_batch(str(i), i)) for i in range(IDS)]
    connections = []
    for _ in range(senders):
        _, connection = await loop.create_connection(Connection, "127.0.0.1", port)
        connections.append(connection)
    latencies: list[float] = []

    async def sender(connection: Connection, numbers: Iterator[int]) -> None:
        for n in numbers:
            i = (n * 7919) % IDS  # spread over the ids, not in order
            started = time.perf_counter()
            status, body = await connection.request(requests[i])
            latencies.append(time.perf_counter() - started)
            check_reply(status, body, i + 1)

    async def run(count: int) -> float:
        numbers = iter(range(count))
        started = time.perf_counter()
        await asyncio.gather(*(sender(c, numbers) for c in connections))
        return time.perf_counter() - started

    await run(warmup)
    server = psutil.Process(server_pid)
    latencies.clear()
    cpu = cpu_seconds(server)
    elapsed = await run(calls)
    cpu = cpu_seconds(server) - cpu
    for connection in connections:
        assert connection.transport is not None
        connection.transport.close()
    return {
        "calls_per_s": calls / elapsed,
        "cpu_us_per_call": cpu / calls * 1e6,
        "p50_ms": statistics.median(latencies) * 1000,
    }


# --- the orchestrator ---------------------------------------------------------------------------


def measure(kind: str, server: CounterServer, args: argparse.Namespace) -> dict[str, float]:
    """One round for one kind: the load generator in its own process; its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.function_server", "--drive", "--port", str(server.port),
         "--server-pid", str(server.process.pid), "--calls", str(args.calls),
         "--warmup", str(args.warmup), "--senders", str(args.senders)],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the load generator failed against {kind} (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def line(label: str, figures: dict[str, float]) -> str:
    return (f"{label:<24} {figures['calls_per_s']:>8,.0f} calls/s   server CPU "
            f"{figures['cpu_us_per_call']:>6.1f} µs/call   p50 {figures['p50_ms']:.3f} ms")


def orchestrate(args: argparse.Namespace) -> None:
    print(f"SDK function server benchmark: bench/counter over {IDS:,} ids, one invocation per "
          f"batch, {args.calls:,} calls per round after {args.warmup:,} warm-up calls, "
          f"{args.senders} keep-alive senders (one request in flight each), {psutil.cpu_count()} "
          f"cores; server and load generator in own processes; baton = serve_functions "
          f"(`baton serve`), aiohttp = function_app", flush=True)
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    with ExitStack() as running:
        servers = {kind: running.enter_context(counter_server(kind)) for kind in KINDS}
        for round_ in range(args.rounds):
            for kind in (KINDS if round_ % 2 == 0 else KINDS[::-1]):
                figures = measure(kind, servers[kind], args)
                results[kind].append(figures)
                print(line(f"round {round_ + 1}: {kind}", figures), flush=True)
    print(f"medians of {args.rounds} rounds:")
    medians = {
        kind: {key: statistics.median(r[key] for r in results[kind]) for key in results[kind][0]}
        for kind in KINDS
    }
    for kind in KINDS:
        print(line(f"  {kind}", medians[kind]))
    ratio = medians["baton"]["cpu_us_per_call"] / medians["aiohttp"]["cpu_us_per_call"]
    print(f"server CPU per call, baton / aiohttp: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000, help="measured calls per kind and round")
    parser.add_argument("--warmup", type=int, default=2_000, help="calls before each measurement")
    parser.add_argument("--senders", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.drive:
        orchestrate(args)
        return
    use_uvloop()
    figures = asyncio.run(drive(args.port, args.server_pid, args.calls, args.warmup, args.senders))
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
