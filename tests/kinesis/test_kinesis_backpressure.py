"""Backpressure: while a slow function lags, shard readers wait instead of fetching and buffering."""

from __future__ import annotations

from baton.runtime import Limits
from baton.runtime.connectors.kinesis_source import KinesisSource
from tests.durability.source_support import most_queued_until, slow_functions, started_runtime

MAX_QUEUED = 50


async def test_readers_wait_and_the_backlog_stays_bounded(kinesis, function_server):
    url = await function_server(slow_functions())
    kinesis.create_stream("events")
    kinesis.put("events", [(f"k{i % 20}", b"1") for i in range(2000)])
    (shard,) = kinesis.shard_ids("events")
    runtime = await started_runtime(kinesis.counter_module(url, "slow", batch=10),
                                    limits=Limits(max_queued=MAX_QUEUED))
    try:
        source = next(c for c in runtime._connectors if isinstance(c, KinesisSource))
        most_queued = await most_queued_until(
            runtime, lambda: runtime.positions("slow/in").get(f"events/{shard}") == "2000", 60)
        await runtime.until_idle(30)
    finally:
        await runtime.stop()
    assert source.paused > 0  # the reader waited for the runtime while it was saturated
    # The runtime held at most about its limit (one record may be admitted per wake-up), not 2000.
    assert most_queued <= MAX_QUEUED + 20, most_queued
