"""Backpressure: while a slow function lags, the ingress pauses its partitions instead of buffering."""

from __future__ import annotations

from baton.runtime import Limits
from baton.runtime.connectors.kafka_source import KafkaSource
from tests.durability.source_support import most_queued_until, slow_functions, started_runtime
from tests.kafka.conftest import counter_module, create_topics, produce

MAX_QUEUED = 50


async def test_partitions_pause_and_the_backlog_stays_bounded(tmp_path, broker, function_server):
    url = await function_server(slow_functions())
    create_topics(broker.address, "events")
    produce(broker.address, "events", [(f"k{i % 20}", b"1") for i in range(2000)])
    runtime = await started_runtime(counter_module(url, broker.address, "slow", group="slow", batch=10),
                                    limits=Limits(max_queued=MAX_QUEUED))
    try:
        source = next(c for c in runtime._connectors if isinstance(c, KafkaSource))
        most_queued = await most_queued_until(
            runtime, lambda: runtime.positions("slow/in").get("events/0") == "2000", 60)
        await runtime.until_idle(30)
    finally:
        await runtime.stop()
    assert source.paused > 0  # it stopped fetching while the runtime was saturated
    # The runtime held at most about its limit (one record may be admitted per wake-up), not 2000.
    assert most_queued <= MAX_QUEUED + 20, most_queued
