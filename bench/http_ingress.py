"""What users feel: messages through the playground HTTP ingress of `baton run`, durable.

Run: `uv run python -m bench.http_ingress [--messages N] [--keys] [--compare OTHER/src --rounds 3]
[--function-server baton|aiohttp]`.

Three processes besides this one, on the same machine: `baton run` (state in a SQLite data dir),
the official-SDK counter function served as `baton serve` serves it (`bench.counter_server`;
`--function-server aiohttp`: a plain aiohttp handler instead), and the load
generator (`bench.http_load`: 64 keep-alive senders, one message per PUT, optionally each with
its own Idempotency-Key). Per workload (1,000 ids; one hot id) it prints processed msg/s (from
the first request until the runtime is idle, i.e. the last message's effect is applied, checked
against the counters afterwards), p50/p99 acknowledgement latency under that load, and CPU per
message of each process; then the unloaded acknowledgement latency (one sender) and, as a
secondary line, the in-process figure of `bench.runtime` (dispatcher fed in chunks).

`--compare DIR` runs a second baton source tree (its `src`, e.g. from `git archive main`)
alternately with this one, `--rounds` times, and prints the medians of both: the way to measure
a change on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from bench.processes import counter_server, cpu_seconds, free_port, use_uvloop

MODULE = """\
kind: io.statefun.endpoints.v2/http
spec:
  functions: bench/*
  urlPathTemplate: {url}
  transport:
    type: io.statefun.transports.v1/async
    call: 30s
---
kind: io.statefun.playground.v1/ingress
spec:
  port: {port}
"""

WORKLOADS = {"1,000 ids": 1000, "1 hot id": 1}
WARMUP = 2_000


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_us: dict[str, float]


@dataclass
class Variant:
    """One baton source tree under test and its figures over the rounds."""

    name: str
    src: str | None  # None: the baton installed in this environment
    results: dict[str, list[Result]] = field(default_factory=dict)
    unloaded: list[tuple[float, float]] = field(default_factory=list)


class BatonRun:
    """`baton run module.yaml --data-dir ...` in its own process."""

    def __init__(self, src: str | None, function_url: str, workdir: Path) -> None:
        self.src = src
        self.url = function_url
        self.workdir = workdir
        self.port = free_port()
        self.admin_port = free_port()
        self.proc: subprocess.Popen | None = None

    async def __aenter__(self) -> BatonRun:
        module = self.workdir / "module.yaml"
        module.write_text(MODULE.format(url=self.url, port=self.port))
        env = dict(os.environ)
        if self.src:
            env["PYTHONPATH"] = self.src
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - started before anything is measured
            [sys.executable, "-m", "baton.cli", "run", str(module), "--data-dir",
             str(self.workdir / "data"), "--admin-port", str(self.admin_port)],
            env=env, stdout=subprocess.DEVNULL,
        )
        self.session = aiohttp.ClientSession(f"http://127.0.0.1:{self.admin_port}")
        deadline = time.monotonic() + 30
        while True:
            try:
                async with self.session.get("/health") as response:
                    if response.status == 200:
                        return self
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("baton run did not start")
            await asyncio.sleep(0.05)

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait()

    async def until_idle(self) -> float:
        """Poll the admin API until nothing is queued or in flight; the wall time it was seen."""
        while True:
            async with self.session.get("/metrics.json") as response:
                figures = await response.json()
            if figures["queued"] == 0 and figures["inflight_batches"] == 0:
                return time.time()
            await asyncio.sleep(0.002)

    async def count(self, target_id: str) -> int:
        async with self.session.get(f"/state/bench/counter/{target_id}") as response:
            state = (await response.json())["state"]
        return state["count"]["value"] if "count" in state else 0


async def load(port: int, ids: int, messages: int, senders: int, keys: bool, key_prefix: str,
               measured: tuple[psutil.Process, ...] = ()) -> tuple[dict, dict[int, float]]:
    """Run the load generator; its JSON answer and CPU seconds of `measured` (pid: seconds)."""
    command = [sys.executable, "-m", "bench.http_load", "--port", str(port), "--ids", str(ids),
               "--messages", str(messages), "--senders", str(senders), "--key-prefix", key_prefix,
               "--wait-for-go"] + (["--keys"] if keys else [])
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024)  # the answer is one long JSON line
    assert proc.stdout is not None and proc.stdin is not None
    ready = await proc.stdout.readline()
    if ready.strip() != b"ready":
        raise RuntimeError(f"the load generator did not start: {ready!r}")
    before = {p.pid: cpu_seconds(p) for p in measured}
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    answer = json.loads(await proc.stdout.readline())
    await proc.wait()
    return answer, before


async def run_workload(baton: BatonRun, function: psutil.Process, ids: int, messages: int,
                       senders: int, keys: bool, tag: str) -> Result:
    assert baton.proc is not None
    processes = {"baton": psutil.Process(baton.proc.pid), "function": function}
    answer, before = await load(baton.port, ids, messages, senders, keys, tag,
                                tuple(processes.values()))
    visible_at = await baton.until_idle()
    cpu = {name: (cpu_seconds(p) - before[p.pid]) / messages * 1e6 for name, p in processes.items()}
    cpu["load generator"] = answer["cpu_s"] / messages * 1e6
    refused = sum(v for k, v in answer["statuses"].items() if k in ("429", "503"))
    if set(answer["statuses"]) - {"202", "429", "503"}:
        raise RuntimeError(f"unexpected answers: {answer['statuses']}")
    if refused:
        print(f"    ({refused:,} refusals retried)")
    q = statistics.quantiles(answer["latencies_ms"], n=100)
    return Result(messages / (visible_at - answer["started_at"]), q[49], q[98], cpu)


async def run_variant(variant: Variant, function_url: str, function: psutil.Process,
                      messages: int, senders: int, keys: bool, latency_samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with BatonRun(variant.src, function_url, Path(tmp)) as baton:
            await load(baton.port, 1000, WARMUP, senders, keys, "warm")
            await baton.until_idle()
            for name, ids in WORKLOADS.items():
                targets = ["hot"] if ids == 1 else [str(i) for i in range(ids)]
                before = sum([await baton.count(t) for t in targets])
                result = await run_workload(baton, function, ids, messages, senders, keys, name)
                after = sum([await baton.count(t) for t in targets])
                if after - before != messages:
                    raise RuntimeError(f"{name}: {after - before} increments for {messages} messages")
                variant.results.setdefault(name, []).append(result)
                print(f"  {variant.name:<8} {name:<10} {result.rate:>8,.0f} msg/s   ack p50 "
                      f"{result.p50_ms:6.2f} ms p99 {result.p99_ms:6.2f} ms   CPU µs/msg " +
                      ", ".join(f"{k} {v:.0f}" for k, v in result.cpu_us.items()), flush=True)
            answer, _ = await load(baton.port, 100, latency_samples, 1, keys, "lat")
            q = statistics.quantiles(answer["latencies_ms"], n=100)
            variant.unloaded.append((q[49], q[98]))
            print(f"  {variant.name:<8} unloaded ack (1 sender): p50 {q[49]:.2f} ms  "
                  f"p99 {q[98]:.2f} ms", flush=True)


def summary(variant: Variant) -> None:
    for name, results in variant.results.items():
        cpu = {k: statistics.median(r.cpu_us[k] for r in results) for k in results[0].cpu_us}
        print(f"{variant.name:<8} {name:<10} {statistics.median(r.rate for r in results):>8,.0f} "
              f"msg/s processed   ack p50 {statistics.median(r.p50_ms for r in results):.2f} ms "
              f"p99 {statistics.median(r.p99_ms for r in results):.2f} ms   CPU µs/msg " +
              ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))
    p50 = statistics.median(u[0] for u in variant.unloaded)
    p99 = statistics.median(u[1] for u in variant.unloaded)
    print(f"{variant.name:<8} unloaded ack latency, durable: p50 {p50:.2f} ms  p99 {p99:.2f} ms")


async def main_async(args: argparse.Namespace) -> None:
    variants = [Variant("this", None)]
    if args.compare:
        variants.append(Variant("compare", args.compare))
    print(f"baton HTTP ingress benchmark: {args.messages:,} messages per workload, {args.senders} "
          f"keep-alive senders, Idempotency-Keys {'on' if args.keys else 'off'}, SQLite data dir, "
          f"{psutil.cpu_count()} cores; baton run, SDK function ({args.function_server} server) and load "
          "generator in own processes")
    with counter_server(args.function_server) as server:
        function = psutil.Process(server.process.pid)
        for round_ in range(args.rounds):
            order = variants if round_ % 2 == 0 else variants[::-1]
            for variant in order:
                await run_variant(variant, server.url, function, args.messages, args.senders,
                                  args.keys, args.latency_samples)
    print(f"medians of {args.rounds} round(s):")
    for variant in variants:
        summary(variant)
    if not args.no_in_process:
        from baton.runtime.sqlite_store import SqliteStore
        from bench.runtime import run_suite

        print("secondary: in-process (dispatcher fed 500-message chunks, bench.runtime)")
        with tempfile.TemporaryDirectory() as tmp:
            await run_suite(lambda: SqliteStore(tmp), "in-process sqlite", args.messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="per workload")
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--keys", action="store_true", help="an Idempotency-Key on every message")
    parser.add_argument("--latency-samples", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--compare", metavar="SRC", help="another baton source tree to alternate with")
    parser.add_argument("--function-server", choices=("baton", "aiohttp"), default="baton",
                        help="what serves the SDK function: baton serve's server or plain aiohttp")
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process line")
    args = parser.parse_args()
    if args.compare:
        args.compare = os.path.abspath(args.compare)  # the variant runs with another cwd-free path
    use_uvloop()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
