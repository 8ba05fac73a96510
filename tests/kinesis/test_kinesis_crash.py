"""Crash test: Kinesis in, SDK function, Kinesis out, while `baton run` is SIGKILLed and restarted.

moto runs in the test process, so its streams outlive each killed baton. The ingress is exactly
once (sequence numbers commit with the state they produced): every key's running totals are
exact, no record a correct run could not produce appears. The egress is at least once: nothing
is missing; duplicates (a batch Kinesis had taken when baton died before removing it from the
outbox) are counted and printed.

The default run sends 4,000 records; `BATON_KINESIS_CRASH_RECORDS=20000` runs the issue's size.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter

import aiohttp
import pytest

from tests.conftest import eventually, free_port
from tests.durability.source_support import durably_consumed, function_process
from tests.durability.stream_workload import running_totals
from tests.durability.test_crash import BatonProcess
from tests.kinesis.conftest import Kinesis

KEYS = 200
RECORDS = int(os.environ.get("BATON_KINESIS_CRASH_RECORDS", "4000"))
CHUNKS = 20
KILLS = 2
SHARDS = 4


def _values(records: list[dict]) -> Counter[str]:
    return Counter(r["Data"].decode() for r in records)


@pytest.mark.timeout(300)
async def test_kinesis_to_kinesis_survives_repeated_sigkill(tmp_path, kinesis: Kinesis):
    records, expected = running_totals(RECORDS, KEYS)
    kinesis.create_stream("events", shards=SHARDS)
    kinesis.create_stream("totals", shards=SHARDS)
    module = tmp_path / "module.yaml"
    baton = BatonProcess(module, tmp_path / "data", free_port())
    chunk = RECORDS // CHUNKS
    database = tmp_path / "data" / "baton.db"

    def ingested() -> int:
        return durably_consumed(database, "crash/in")

    async def feed() -> None:  # at most two chunks ahead of baton, so every kill is mid-stream
        for start in range(0, RECORDS, chunk):
            await eventually(lambda start=start: ingested() >= start - 2 * chunk, 120)
            await asyncio.to_thread(kinesis.put, "events", records[start:start + chunk])

    async with function_process("tests.kinesis.crash_functions") as url, aiohttp.ClientSession() as session:
        module.write_text(kinesis.counter_module(url, "crash", batch=1000, egress=True))
        await baton.start(session)
        feeding = asyncio.create_task(feed())
        try:
            progress = []  # the stream keeps coming; baton dies at 1/3 and 2/3 of it
            for k in range(1, KILLS + 1):
                await eventually(lambda k=k: ingested() >= k * RECORDS // (KILLS + 1), 120)
                await baton.kill()
                progress.append(ingested())
                await baton.start(session)
            await feeding
            seen = await kinesis.read_until("totals", lambda got: not expected - _values(got), timeout=120)
        finally:
            feeding.cancel()
            await baton.stop()
    assert all(0 < n < RECORDS for n in progress), f"a kill missed the stream: {progress}"
    got = _values(seen)
    missing = expected - got
    assert not missing, f"{sum(missing.values())} records missing, e.g. {list(missing)[:5]}"
    unexpected = set(got) - set(expected)
    assert not unexpected, f"records no correct run produces: {sorted(unexpected)[:5]}"
    duplicated = got - expected
    print(f"Kinesis at-least-once: {KILLS} SIGKILLs (durably ingested at each: {progress}), {RECORDS} "
          f"records over {KEYS} keys, {sum(duplicated.values())} duplicated in the egress stream")
