"""A broker that goes away for 10 s and comes back: nothing is lost on the way in or out."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tests.conftest import eventually
from tests.durability.source_support import durable_runtime
from tests.kafka.conftest import counter_module, create_topics, produce, read_topic
from tests.kafka.crash_functions import functions


@pytest.mark.timeout(120)
@pytest.mark.parametrize("semantic", ["at-least-once", "exactly-once"])
async def test_broker_away_for_ten_seconds_loses_nothing(tmp_path, broker, function_server, semantic):
    url = await function_server(functions)
    create_topics(broker.address, "events", "totals")
    produce(broker.address, "events", [(f"k{i % 10}", b"1") for i in range(100)])
    runtime = await durable_runtime(
        tmp_path, counter_module(url, broker.address, "crash", group="away", egress=semantic))
    try:
        await eventually(lambda: int(runtime.positions("crash/in").get("events/0", "0")) > 0, 20)
        broker.freeze()  # gone mid-stream: egress records pile up in the outbox meanwhile
        frozen = time.monotonic()
        await asyncio.sleep(10)  # the scenario itself: the broker stays away for 10 s
        broker.thaw()
        assert time.monotonic() - frozen >= 10
        await asyncio.to_thread(produce, broker.address, "events", [(f"k{i % 10}", b"1") for i in range(100)])
        seen = await asyncio.to_thread(read_topic, broker.address, "totals", expect=200, timeout=60)
    finally:
        await runtime.stop()
    got = Counter(value.decode() for _, value in seen if value is not None)
    expected = {f"k{k}:{n}:{n}" for k in range(10) for n in range(1, 21)}
    assert expected <= set(got), sorted(expected - set(got))[:5]
