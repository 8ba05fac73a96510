"""What observing the runtime costs on the hot path: throughput with and without metrics.

Run: `uv run python -m bench.metrics_cost [--messages N] [--rounds R]`. In one run, rounds of
the same flood (counter function, 1,000 ids, in-memory store) alternate between:

- `no metrics`: histogram observations switched off (the counters are single int increments);
- `metrics, scraped`: everything on, and `/metrics` scraped once a second during the flood
  (a usual Prometheus interval is 15 s);
- `tracing on`: also a span per invocation batch (exported to nowhere), for information.

Each round runs the variants back to back, so the comparison is the median of the per-round
ratios (a shared machine's load drifts between rounds more than metrics cost). It also times
the hot path's metrics work alone (what the dispatcher does per batch) against the runtime's
CPU per message. The target is at most 5% lower throughput with metrics.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import timeit
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import psutil

from baton.runtime import Runtime
from baton.runtime.metrics import FunctionMetrics, Histogram
from baton.runtime.store import MemoryStore
from bench.processes import counter_server, cpu_seconds, use_uvloop
from bench.runtime import count_total, flood, module_for

IDS = [str(i) for i in range(1000)]
TARGET = 0.05


@contextmanager
def histograms_off() -> Iterator[None]:
    observe = Histogram.observe
    Histogram.observe = lambda self, value: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Histogram.observe = observe  # type: ignore[method-assign]


def _null_tracer_provider():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Discard(SpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Discard()))
    return provider


async def one_round(url: str, variant: str, messages: int) -> tuple[float, float]:
    """(messages/s, runtime CPU µs per message) of one flood."""
    tracing = _null_tracer_provider() if variant == "tracing on" else None
    runtime = Runtime(module_for(url), MemoryStore(), admin_port=0, tracer_provider=tracing)
    await runtime.start()
    scrapes = 0
    try:
        await flood(runtime, ["warmup"], 200)

        async def scrape_every_second() -> None:
            nonlocal scrapes
            async with aiohttp.ClientSession() as session:
                while True:
                    async with session.get(f"{runtime.url_of('admin')}/metrics") as response:
                        await response.read()
                    scrapes += 1
                    await asyncio.sleep(1.0)

        scraper = asyncio.create_task(scrape_every_second()) if variant != "no metrics" else None
        before = count_total(runtime, IDS)
        cpu = cpu_seconds(psutil.Process())
        if variant == "no metrics":
            with histograms_off():
                seconds = await flood(runtime, IDS, messages)
        else:
            seconds = await flood(runtime, IDS, messages)
        cpu = cpu_seconds(psutil.Process()) - cpu
        if scraper is not None:
            scraper.cancel()
            await asyncio.gather(scraper, return_exceptions=True)
            assert scrapes >= 1
        assert count_total(runtime, IDS) - before == messages, "lost or duplicated increments"
        return messages / seconds, cpu / messages * 1e6
    finally:
        await runtime.stop()


def hot_path_us_per_batch() -> float:
    """µs of the metrics work the dispatcher does for one applied batch of one message."""
    metrics = FunctionMetrics()

    def batch() -> None:  # as in Dispatcher.deliver, _drive and _apply
        metrics.messages_in += 1
        metrics.requests += 1
        metrics.batches += 1
        metrics.batch_size.observe(1)
        metrics.latency.observe(0.0012)
        metrics.out_local += 0
        metrics.out_egress += 0

    runs = 200_000
    return min(timeit.repeat(batch, number=runs, repeat=5)) / runs * 1e6


async def main_async(messages: int, rounds: int) -> None:
    variants = ["no metrics", "metrics, scraped", "tracing on"]
    print(f"metrics cost: counter function, 1,000 ids, {messages:,} messages per round, "
          f"{rounds} rounds per variant, alternating")
    rates: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    with counter_server() as server:
        for round_ in range(rounds):
            for variant in variants if round_ % 2 == 0 else reversed(variants):
                rate, cpu_per_message = await one_round(server.url, variant, messages)
                rates[variant].append(rate)
                cpu[variant].append(cpu_per_message)
    median = {v: statistics.median(r) for v, r in rates.items()}
    cpu_median = {v: statistics.median(c) for v, c in cpu.items()}
    for variant in variants:
        spread = ", ".join(f"{r:,.0f}" for r in rates[variant])
        print(f"{variant:<18} {median[variant]:>8,.0f} msg/s  {cpu_median[variant]:>6.1f} µs runtime CPU/msg "
              f"(medians; msg/s per round: {spread})")
    base = rates["no metrics"]
    print(f"noise: 'no metrics' rounds range {min(base):,.0f}..{max(base):,.0f} msg/s")

    # Changes against `no metrics`, paired by round (negative throughput = slower, positive CPU = dearer).
    def paired(variant: str, figures: dict[str, list[float]]) -> float:
        return statistics.median(v / b for v, b in zip(figures[variant], figures["no metrics"])) - 1

    change = paired("metrics, scraped", rates)
    verdict = "within" if change >= -TARGET else "OVER"
    print(f"with metrics: {change:+.1%} throughput ({verdict} the -{TARGET:.0%} target), "
          f"{paired('metrics, scraped', cpu):+.1%} runtime CPU per message (medians of per-round ratios)")
    print(f"with tracing: {paired('tracing on', rates):+.1%} throughput, "
          f"{paired('tracing on', cpu):+.1%} runtime CPU per message")
    work = hot_path_us_per_batch()
    print(f"hot-path metrics work: {work:.2f} µs per batch = {work / cpu_median['no metrics']:.1%} of the "
          f"runtime's {cpu_median['no metrics']:.1f} µs CPU per message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    use_uvloop()
    asyncio.run(main_async(args.messages, args.rounds))


if __name__ == "__main__":
    main()
