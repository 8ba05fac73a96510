"""Backpressure: while a slow function lags, shard readers wait instead of fetching and buffering."""

from __future__ import annotations

import asyncio

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.module import load_module_text
from baton.runtime import Limits, Runtime
from baton.runtime.connectors.kinesis_source import KinesisSource
from tests.conftest import eventually

MAX_QUEUED = 50


async def test_readers_wait_and_the_backlog_stays_bounded(kinesis, function_server):
    functions = StatefulFunctions()

    @functions.bind("slow/counter", specs=[ValueSpec("n", IntType)])
    async def slow(context, message):
        await asyncio.sleep(0.002)  # a function slower than the stream
        context.storage.n = (context.storage.n or 0) + 1

    url = await function_server(functions)
    kinesis.create_stream("events")
    kinesis.put("events", [(f"k{i % 20}", b"1") for i in range(2000)])
    (shard,) = kinesis.shard_ids("events")
    runtime = Runtime(load_module_text(f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: slow/*, urlPathTemplate: "{url}", maxNumBatchRequests: 10}}
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: slow/in
{kinesis.region_yaml()}  startupPosition: {{type: earliest}}
  streams: [{{stream: events, valueType: slow/Amount, targets: [slow/counter]}}]
""", "module.yaml"), admin_port=None, limits=Limits(max_queued=MAX_QUEUED))
    await runtime.start()
    most_queued = 0
    try:
        source = next(c for c in runtime._connectors if isinstance(c, KinesisSource))

        def done() -> bool:
            nonlocal most_queued
            most_queued = max(most_queued, runtime.status().queued)
            return runtime.positions("slow/in").get(f"events/{shard}") == "2000"

        await eventually(done, 60)
        await runtime.until_idle(30)
    finally:
        await runtime.stop()
    assert source.paused > 0  # the reader waited for the runtime while it was saturated
    # The runtime held at most about its limit (one record may be admitted per wake-up), not 2000.
    assert most_queued <= MAX_QUEUED + 20, most_queued
