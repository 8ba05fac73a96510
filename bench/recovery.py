"""Durability figures: restart time with many stored entities, memory under an ingress flood.

Run: `uv run python -m bench.recovery [--entities 1000000] [--flood 1000000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import psutil
from statefun import IntType

from baton.runtime import Address, Runtime
from baton.runtime.sqlite_store import SqliteStore
from bench.processes import counter_server, use_uvloop
from bench.runtime import count_total, flood, module_for

ONE = IntType.serializer().serialize(1)


def _fill(data_dir: Path, entities: int) -> None:
    """Write `entities` counter states straight into a fresh store file."""
    SqliteStore(data_dir).close()  # creates the schema
    with sqlite3.connect(data_dir / "baton.db") as db:
        db.executemany(
            "INSERT INTO state VALUES (?, ?, ?, ?, NULL)",
            ((f"bench/counter/{i}", "count", IntType.typename, ONE) for i in range(entities)),
        )


async def restart_time(url: str, entities: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        _fill(data_dir, entities)
        size_mb = (data_dir / "baton.db").stat().st_size / 1e6
        filled_s = time.perf_counter() - started
        print(f"stored {entities:,} entities ({size_mb:,.0f} MB file) in {filled_s:.1f}s")

        module = module_for(url, playground_ingress=True)
        started = time.perf_counter()
        runtime = Runtime(module, SqliteStore(data_dir), admin_port=None)
        await runtime.start()
        async with (
            aiohttp.ClientSession() as session,
            session.put(f"{runtime.url_of('ingress')}/bench/counter/7", data=ONE,
                        headers={"Content-Type": "application/vnd.io.statefun.types/int"}) as r,
        ):
            assert r.status == 202, r.status
        ready = time.perf_counter() - started
        await runtime.until_idle()
        stored = runtime.state(Address("bench", "counter", "7"))["count"]
        count = IntType.serializer().deserialize(stored.value)
        await runtime.stop()
        assert count == 2, count
        print(f"restart with {entities:,} stored entities → first ingress message acknowledged: {ready:.3f}s")


async def flood_memory(url: str, messages: int) -> None:
    process = psutil.Process()
    peak = [process.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], process.memory_info().rss)

    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(module_for(url), SqliteStore(tmp), admin_port=None)
        await runtime.start()
        baseline = process.memory_info().rss
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        max_queued = 0

        def sample_queue() -> None:
            nonlocal max_queued
            max_queued = max(max_queued, runtime.status().queued)

        ids = [str(i) for i in range(1000)]
        elapsed = await flood(runtime, ids, messages, sample_queue)
        done.set()
        sampler.join()
        total = count_total(runtime, ids)
        await runtime.stop()
    assert total == messages, (total, messages)
    print(f"flood of {messages:,} messages over 1,000 ids: {messages / elapsed:,.0f} msg/s; "
          f"RSS {baseline / 1e6:,.0f} MB before, peak {peak[0] / 1e6:,.0f} MB "
          f"(+{(peak[0] - baseline) / 1e6:,.0f} MB); most queued at once {max_queued:,} "
          f"(bound: 50,000 per function type, half of max_queued, + one ingest call)")


async def main_async(entities: int, flood: int) -> None:
    with counter_server() as server:
        await restart_time(server.url, entities)
        await flood_memory(server.url, flood)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--flood", type=int, default=1_000_000)
    args = parser.parse_args()
    use_uvloop()
    asyncio.run(main_async(args.entities, args.flood))


if __name__ == "__main__":
    main()
