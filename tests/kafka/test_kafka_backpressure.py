"""Backpressure: while a slow function lags, the ingress pauses its partitions instead of buffering."""

from __future__ import annotations

import asyncio

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.module import load_module_text
from baton.runtime import Runtime
from baton.runtime.admission import Limits
from baton.runtime.connectors.kafka_source import KafkaSource
from tests.conftest import eventually
from tests.kafka.conftest import create_topics, produce

MAX_QUEUED = 50


async def test_partitions_pause_and_the_backlog_stays_bounded(tmp_path, broker, function_server):
    functions = StatefulFunctions()

    @functions.bind("slow/counter", specs=[ValueSpec("n", IntType)])
    async def slow(context, message):
        await asyncio.sleep(0.002)  # a function slower than the stream
        context.storage.n = (context.storage.n or 0) + 1

    url = await function_server(functions)
    create_topics(broker.address, "events")
    produce(broker.address, "events", [(f"k{i % 20}", b"1") for i in range(2000)])
    runtime = Runtime(load_module_text(f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: slow/*, urlPathTemplate: "{url}", maxNumBatchRequests: 10}}
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: slow/in
  address: {broker.address}
  consumerGroupId: slow
  startupPosition: {{type: earliest}}
  topics: [{{topic: events, valueType: slow/Amount, targets: [slow/counter]}}]
""", "module.yaml"), admin_port=None, limits=Limits(max_queued=MAX_QUEUED))
    await runtime.start()
    most_queued = 0
    try:
        source = next(c for c in runtime._connectors if isinstance(c, KafkaSource))

        def done() -> bool:
            nonlocal most_queued
            most_queued = max(most_queued, runtime.status().queued)
            return runtime.positions("slow/in").get("events/0") == "2000"

        await eventually(done, 60)
        await runtime.until_idle(30)
    finally:
        await runtime.stop()
    assert source.paused > 0  # it stopped fetching while the runtime was saturated
    # The runtime held at most about its limit (one record may be admitted per wake-up), not 2000.
    assert most_queued <= MAX_QUEUED + 20, most_queued
