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
import sqlite3
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from functions.kafka_broker import free_port
from tests.conftest import ROOT, eventually
from tests.durability.stream_workload import running_totals
from tests.durability.test_crash import BatonProcess
from tests.kinesis.conftest import Kinesis

KEYS = 200
RECORDS = int(os.environ.get("BATON_KINESIS_CRASH_RECORDS", "4000"))
CHUNKS = 20
KILLS = 2
SHARDS = 4


def _workload() -> tuple[list[tuple[str, bytes]], Counter[str]]:
    return running_totals(RECORDS, KEYS)


def _ingested(database: Path) -> int:
    """Records baton has durably ingested (moto numbers each shard's records 1, 2, ...)."""
    if not database.exists():
        return 0
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT position FROM source_positions WHERE source = 'crash/in'").fetchall()
    return sum(int(position) for (position,) in rows if position.isdigit())


def _values(records: list[dict]) -> Counter[str]:
    return Counter(r["Data"].decode() for r in records)


@pytest.mark.timeout(300)
async def test_kinesis_to_kinesis_survives_repeated_sigkill(tmp_path, kinesis: Kinesis):
    records, expected = _workload()
    kinesis.create_stream("events", shards=SHARDS)
    kinesis.create_stream("totals", shards=SHARDS)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.kinesis.crash_functions", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    url = (await asyncio.wait_for(server.stdout.readline(), 20)).decode().split("listening on ", 1)[1].strip()
    module = tmp_path / "module.yaml"
    module.write_text(f"""
kind: io.statefun.endpoints.v2/http
spec:
  functions: crash/*
  urlPathTemplate: {url}
  maxNumBatchRequests: 1000
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: crash/in
{kinesis.region_yaml()}  startupPosition: {{type: earliest}}
  streams:
    - stream: events
      valueType: crash/Amount
      targets: [crash/counter]
---
kind: io.statefun.kinesis.v1/egress
spec:
  id: crash/out
{kinesis.region_yaml()}""")
    baton = BatonProcess(module, tmp_path / "data", free_port())
    chunk = RECORDS // CHUNKS
    database = tmp_path / "data" / "baton.db"

    async def feed() -> None:  # at most two chunks ahead of baton, so every kill is mid-stream
        for start in range(0, RECORDS, chunk):
            await eventually(lambda start=start: _ingested(database) >= start - 2 * chunk, 120)
            await asyncio.to_thread(kinesis.put, "events", records[start:start + chunk])

    async with aiohttp.ClientSession() as session:
        await baton.start(session)
        feeding = asyncio.create_task(feed())
        try:
            progress = []  # the stream keeps coming; baton dies at 1/3 and 2/3 of it
            for k in range(1, KILLS + 1):
                await eventually(lambda k=k: _ingested(database) >= k * RECORDS // (KILLS + 1), 120)
                await baton.kill()
                progress.append(_ingested(database))
                await baton.start(session)
            await feeding
            seen = await kinesis.read_until("totals", lambda got: not expected - _values(got), timeout=120)
        finally:
            feeding.cancel()
            await baton.stop()
            server.terminate()
            await server.wait()
    assert all(0 < n < RECORDS for n in progress), f"a kill missed the stream: {progress}"
    got = _values(seen)
    missing = expected - got
    assert not missing, f"{sum(missing.values())} records missing, e.g. {list(missing)[:5]}"
    unexpected = set(got) - set(expected)
    assert not unexpected, f"records no correct run produces: {sorted(unexpected)[:5]}"
    duplicated = got - expected
    print(f"Kinesis at-least-once: {KILLS} SIGKILLs (durably ingested at each: {progress}), {RECORDS} "
          f"records over {KEYS} keys, {sum(duplicated.values())} duplicated in the egress stream")
