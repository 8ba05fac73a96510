"""Crash test: Kafka in, SDK function, Kafka out, while `baton run` is SIGKILLed and restarted.

Exactly-once egress: a read_committed consumer of the egress topic sees every expected record
exactly once (and so every key's final total is exact). At-least-once: nothing is missing.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import aiohttp
import pytest

from tests.conftest import eventually, free_port
from tests.durability.source_support import durably_consumed, function_process
from tests.durability.stream_workload import running_totals
from tests.durability.test_crash import BatonProcess
from tests.kafka.conftest import counter_module, create_topics, produce, read_topic

KEYS = 200
RECORDS = 20_000
CHUNKS = 40
KILLS = 2
PARTITIONS = 4


@pytest.mark.timeout(300)
@pytest.mark.parametrize("semantic", ["exactly-once", "at-least-once"])
async def test_kafka_to_kafka_survives_repeated_sigkill(tmp_path, broker, semantic):
    records, expected = running_totals(RECORDS, KEYS)
    create_topics(broker.address, "events", partitions=PARTITIONS)
    create_topics(broker.address, "totals", partitions=PARTITIONS)
    module = tmp_path / "module.yaml"
    baton = BatonProcess(module, tmp_path / "data", free_port())
    database = tmp_path / "data" / "baton.db"
    rng = random.Random(semantic)
    chunk = RECORDS // CHUNKS

    def consumed() -> int:
        return durably_consumed(database, "crash/in")

    kills_done = asyncio.Event()

    async def feed() -> None:  # the stream keeps coming while baton dies and restarts
        for start in range(0, RECORDS, chunk):
            if start == RECORDS * 3 // 4:
                await kills_done.wait()  # the last quarter comes after the kills, whatever the load
            await asyncio.to_thread(produce, broker.address, "events", records[start:start + chunk])
            await asyncio.sleep(0.2)

    async with function_process("tests.kafka.crash_functions") as url, aiohttp.ClientSession() as session:
        module.write_text(counter_module(url, broker.address, "crash", group="crash", batch=1000, egress=semantic))
        feeding = asyncio.create_task(feed())
        try:
            consumed_at_kill = []
            for k in range(KILLS):
                await baton.start(session)
                # A random point of the stream (before its gated last quarter), whatever the load.
                kill_at = int(RECORDS * (k + rng.uniform(0.3, 0.9)) / (KILLS + 2))
                await eventually(lambda kill_at=kill_at: consumed() >= kill_at, 120)
                await asyncio.sleep(rng.uniform(0, 0.2))  # the scenario: any phase of an epoch
                await baton.kill()
                consumed_at_kill.append(consumed())
            print(f"records consumed (committed) at each kill: {consumed_at_kill}")
            assert all(0 < n < RECORDS for n in consumed_at_kill), "every kill must fall mid-stream"
            kills_done.set()
            await baton.start(session)
            await feeding
            seen = await asyncio.to_thread(
                read_topic, broker.address, "totals", partitions=PARTITIONS, expect=RECORDS, timeout=90,
            )
        finally:
            feeding.cancel()
            await baton.stop()
    got = Counter(value.decode() for _, value in seen if value is not None)
    missing = expected - got
    assert not missing, f"{sum(missing.values())} records missing, e.g. {list(missing)[:5]}"
    unexpected = set(got) - set(expected)
    assert not unexpected, f"records no correct run produces: {sorted(unexpected)[:5]}"
    duplicated = got - expected
    print(f"{semantic}: {KILLS} SIGKILLs, {RECORDS} records, {sum(duplicated.values())} duplicated")
    if semantic == "exactly-once":
        assert not duplicated, f"{sum(duplicated.values())} records seen twice, e.g. {list(duplicated)[:5]}"
