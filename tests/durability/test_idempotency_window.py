"""Idempotency keys are kept for a window, bounded in memory (issue 12, item 6)."""

from __future__ import annotations

import sqlite3

from baton.module import load_module_text
from baton.runtime import Address, Message, Runtime
from baton.runtime import sqlite_store as sqlite_module
from baton.runtime.sqlite_store import SqliteStore
from baton.runtime.store import key_digest
from tests.conftest import playground_module
from tests.runtime.test_in_process_transport import ManualClock

WINDOW_S = 60.0


def _message() -> Message:
    # No endpoint serves `nowhere/*`: the message is kept (parked), which is all this needs.
    return Message(Address("nowhere", "fn", "a"), None, "example/Json", b"{}")


async def test_a_key_is_remembered_across_a_restart_for_its_window_only(tmp_path):
    module = load_module_text(playground_module("http://127.0.0.1:9/unused"), "module.yaml")
    clock = ManualClock(1_000_000.0)

    def runtime() -> Runtime:
        return Runtime(
            module, SqliteStore(tmp_path), admin_port=None, clock=clock,
            idempotency_window_s=WINDOW_S,
        )

    async with runtime() as first:
        assert await first.ingest(_message(), idempotency_key="order-1")
        assert not await first.offer(_message(), idempotency_key="order-1")
    clock.time += WINDOW_S - 1
    async with runtime() as second:
        assert not await second.ingest(_message(), idempotency_key="order-1")  # from the file
        clock.time += 2  # the window is over: the same key is a new message
        assert await second.offer(_message(), idempotency_key="order-1")
        assert second.backlog(Address("nowhere", "fn", "a")) == 2


async def test_keys_are_stored_as_digests_bounded_in_memory_and_expired_in_the_file(tmp_path):
    store = SqliteStore(tmp_path)
    await store.start()
    try:
        long_key = "k" * 6_000  # the clients sent 6 KB keys
        total = sqlite_module._CACHED_KEYS * 3
        for n in range(total):
            store.remember_ingress_key(key_digest(f"{long_key}{n}"), 1000.0 + n, 0.0)
        await store.durable()
        assert len(store._ingress_keys) <= sqlite_module._CACHED_KEYS
        for n in (0, total // 2, total - 1):  # the oldest come from the file
            assert store.seen_ingress_key(key_digest(f"{long_key}{n}"), 0.0)
        # Much later: the next key accepted expires the old ones in the file too.
        later = 1000.0 + total + sqlite_module._EXPIRE_KEYS_EVERY_S + WINDOW_S
        store.remember_ingress_key(key_digest("new"), later, later - WINDOW_S)
        await store.durable()
        assert not store.seen_ingress_key(key_digest(f"{long_key}{total - 1}"), later - WINDOW_S)
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "baton.db") as db:
        assert db.execute("SELECT count(*), max(length(key)) FROM ingress_keys").fetchone() == (1, 64)
