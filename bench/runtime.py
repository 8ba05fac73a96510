"""Runtime throughput, latency and CPU per message for a counter function.

Run: `make bench` (or `uv run python -m bench.runtime [--messages N]`). The SDK function server
runs in its own process on the same machine; messages enter through the runtime's ingest API.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
from statefun import IntType

from baton.module.specs import HttpEndpointSpec, ModuleSpec, PlaygroundIngressSpec, TargetFunctions
from baton.runtime import Address, Message, Runtime
from bench.processes import counter_server, cpu_seconds, use_uvloop

COUNTER = "bench/counter"


@dataclass
class Figures:
    name: str
    messages: int
    seconds: float
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.rate:>10,.0f} msg/s   "
            f"{self.cpu_s / self.messages * 1e6:>7.1f} µs CPU/msg (runtime + function)"
        )


def module_for(url: str, playground_ingress: bool = False) -> ModuleSpec:
    """`bench/*` served at `url`; optionally with the playground HTTP ingress on a free port."""
    return ModuleSpec(
        endpoints=(HttpEndpointSpec(TargetFunctions("bench", None), url),),
        ingresses=(PlaygroundIngressSpec(port=0),) if playground_ingress else (),
    )


INGEST_CHUNK = 500  # messages per ingest call, like one poll of a Kafka consumer
INGEST_IN_FLIGHT = 8  # unacknowledged ingest calls, like concurrent ingress clients


async def flood(
    runtime: Runtime, ids: list[str], messages: int, after_chunk: Callable[[], None] = lambda: None,
    payload: tuple[str, bytes] | None = None,
) -> float:
    """Ingest `messages` increments round-robin over `ids`; seconds until all are applied.

    Chunks are ingested concurrently, a few unacknowledged at a time; `after_chunk()` runs after
    each one is handed over (e.g. to sample the runtime). `payload` (typename, value) replaces
    the default int message.
    """
    typename, value = payload or (IntType.typename, IntType.serializer().serialize(1))
    started = time.perf_counter()
    slots = asyncio.Semaphore(INGEST_IN_FLIGHT)

    async def ingest(chunk: list[Message]) -> None:
        try:
            await runtime.ingest(*chunk)
        finally:
            slots.release()

    tasks = []
    for start in range(0, messages, INGEST_CHUNK):
        chunk = [
            Message(Address("bench", "counter", ids[i % len(ids)]), None, typename, value)
            for i in range(start, min(start + INGEST_CHUNK, messages))
        ]
        await slots.acquire()
        tasks.append(asyncio.create_task(ingest(chunk)))
        after_chunk()
    await asyncio.gather(*tasks)
    await runtime.until_idle()
    return time.perf_counter() - started


async def _latencies(runtime: Runtime, count: int) -> list[float]:
    value = IntType.serializer().serialize(1)
    samples = []
    for i in range(count):
        started = time.perf_counter()
        address = Address("bench", "counter", f"lat{i % 100}")
        await runtime.ingest(Message(address, None, IntType.typename, value))
        await runtime.until_idle()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def count_total(runtime: Runtime, ids: list[str]) -> int:
    """The sum of the counters of `ids`."""
    total = 0
    for i in ids:
        stored = runtime.state(Address("bench", "counter", i)).get("count")
        total += IntType.serializer().deserialize(stored.value) if stored else 0
    return total


async def run_suite(store_factory, label: str, messages: int) -> dict[str, float]:
    """Run every scenario on a fresh runtime built on `store_factory()`; print and return figures."""
    figures: dict[str, float] = {}
    with counter_server() as server:
        processes = [psutil.Process(), psutil.Process(server.process.pid)]
        runtime = Runtime(module_for(server.url), store_factory(), admin_port=None)
        await runtime.start()
        await flood(runtime, ["warmup"], 100)  # registers the state spec, warms pools

        for name, ids in [("1,000 ids", [str(i) for i in range(1000)]), ("1 hot id", ["hot"])]:
            cpu = cpu_seconds(*processes)
            seconds = await flood(runtime, ids, messages)
            result = Figures(f"{label}: {name}", messages, seconds, cpu_seconds(*processes) - cpu)
            assert count_total(runtime, ids) == messages, "lost or duplicated increments"
            print(result.line(), flush=True)
            figures[name] = result.rate

        samples = await _latencies(runtime, 2000)
        q = statistics.quantiles(samples, n=100)
        figures["p50"], figures["p99"] = q[49], q[98]
        print(f"{label + ': latency, 1 msg at a time':<34} p50 {q[49]:.3f} ms   p99 {q[98]:.3f} ms",
              flush=True)
        await runtime.stop()
    return figures


async def main_async(messages: int) -> None:
    import tempfile

    from baton.runtime.sqlite_store import SqliteStore
    from baton.runtime.store import MemoryStore

    print(f"baton runtime benchmark: counter function, {messages:,} messages per scenario, "
          f"{psutil.cpu_count()} cores, function server in its own process")
    with tempfile.TemporaryDirectory() as tmp:
        memory = await run_suite(MemoryStore, "memory", messages)
        durable = await run_suite(lambda: SqliteStore(tmp), "sqlite", messages)
    print("durable / memory (same run): " + ", ".join(
        f"{key} {durable[key] / memory[key]:.2f}x" for key in memory
    ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    use_uvloop()
    asyncio.run(main_async(args.messages))


if __name__ == "__main__":
    main()
