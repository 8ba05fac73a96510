"""Memory under many distinct idempotency keys: kept for a window, bounded in memory.

Run: `uv run python -m bench.idempotency_keys [--keys 100000] [--key-bytes 6000]`. Every message
enters through the runtime's HTTP-side ingest (`offer`) with its own key, as clients that always
send one do; the SQLite store keeps the digests, memory keeps only the most recent ones.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

import psutil
from statefun import IntType

from baton.runtime import Address, Message, Runtime
from baton.runtime import sqlite_store as sqlite_module
from baton.runtime.sqlite_store import SqliteStore
from bench.processes import counter_server
from bench.runtime import module_for

ONE = IntType.serializer().serialize(1)
CONCURRENCY = 500  # offers in flight at once, like as many HTTP clients


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


async def _offer_keys(runtime: Runtime, start: int, count: int, key_bytes: int) -> None:
    padding = "k" * max(0, key_bytes - 12)
    pending = iter(range(start, start + count))

    async def client() -> None:
        for n in pending:
            message = Message(Address("bench", "counter", str(n % 1000)), None, IntType.typename, ONE)
            assert await runtime.offer(message, idempotency_key=f"{padding}{n:012d}")

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))


async def main(keys: int, key_bytes: int) -> None:
    with counter_server() as server, tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(tmp)
        async with Runtime(module_for(server.url), store, admin_port=None) as runtime:
            await _offer_keys(runtime, 0, 2_000, key_bytes)  # warm up
            await runtime.until_idle()
            before = _rss_mb()
            started = time.perf_counter()
            await _offer_keys(runtime, 2_000, keys, key_bytes)
            await runtime.until_idle()
            seconds = time.perf_counter() - started
            after = _rss_mb()
            in_memory = len(store._ingress_keys)
            seen_again = not await runtime.offer(
                Message(Address("bench", "counter", "0"), None, IntType.typename, ONE),
                idempotency_key=f"{'k' * max(0, key_bytes - 12)}{2_000:012d}",
            )
        with sqlite3.connect(Path(tmp) / "baton.db") as db:
            rows, size = db.execute("SELECT count(*), sum(length(key)) FROM ingress_keys").fetchone()
        file_mb = (Path(tmp) / "baton.db").stat().st_size / 1e6
    print(f"{keys:,} distinct idempotency keys of {key_bytes:,} bytes in {seconds:.1f}s "
          f"({keys / seconds:,.0f} msg/s)")
    print(f"  RSS {before:,.0f} MB -> {after:,.0f} MB ({after - before:+,.0f} MB); keys in memory "
          f"{in_memory:,} (bound {sqlite_module._CACHED_KEYS:,})")
    print(f"  in the file: {rows:,} digests ({size / 1e6:,.1f} MB of keys; file {file_mb:,.0f} MB); "
          f"the first key still deduplicated: {seen_again}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--key-bytes", type=int, default=6_000)
    args = parser.parse_args()
    asyncio.run(main(args.keys, args.key_bytes))
