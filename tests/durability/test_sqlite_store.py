"""The SQLite store: what a runtime commits survives a restart; bad data dirs fail clearly."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from statefun import IntType, StatefulFunctions, ValueSpec, message_builder

from baton.module import load_module_text
from baton.runtime import SYSTEM_CLOCK, Address, Clock, Message, Runtime
from baton.runtime.sqlite_store import SCHEMA_VERSION, SqliteStore, StoreError
from baton.testing import VirtualClock
from tests.conftest import eventually, playground_module
from tests.runtime.test_python_sdk import JSON, emit


def counter_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/counter", specs=[ValueSpec("count", IntType)])
    async def counter(context, message):
        body = message.as_type(JSON)
        context.storage.count = (context.storage.count or 0) + 1
        if body.get("later_ms"):
            context.send_after(
                timedelta(milliseconds=body["later_ms"]),
                message_builder(target_typename="example/counter", target_id=context.address.id,
                                value={"label": "later"}, value_type=JSON),
                cancellation_token="tok",
            )
        emit(context, "out", {"id": context.address.id, "count": context.storage.count,
                              "label": body.get("label")})

    return functions


async def _runtime(
    tmp_path, url: str, store: SqliteStore | None = None, clock: Clock = SYSTEM_CLOCK
) -> Runtime:
    """A started runtime on `<tmp_path>/data` (or on `store`, for tests that inspect the store)."""
    module = load_module_text(playground_module(url), "module.yaml")
    store = store if store is not None else SqliteStore(tmp_path / "data")
    runtime = Runtime(module, store, admin_port=None, clock=clock)
    await runtime.start()
    return runtime


def _count(runtime: Runtime, id_: str) -> int | None:
    stored = runtime.state(Address("example", "counter", id_)).get("count")
    return IntType.serializer().deserialize(stored.value) if stored else None


async def test_state_outbox_mailbox_and_timers_survive_a_restart(tmp_path, function_server):
    clock = VirtualClock()
    url = await function_server(counter_functions())
    runtime = await _runtime(tmp_path, url, clock=clock)
    await runtime.ingest(*[
        Message(Address("example", "counter", "a"), None, JSON.typename, json.dumps({"label": n}).encode())
        for n in range(3)
    ])
    await eventually(lambda: _count(runtime, "a") == 3)
    # A delayed message due after the restart, and an egress record nobody has read yet.
    await runtime.ingest(Message(Address("example", "counter", "b"), None, JSON.typename,
                                 json.dumps({"later_ms": 300}).encode()))
    await eventually(lambda: _count(runtime, "b") == 1)
    await runtime.stop()

    store = SqliteStore(tmp_path / "data")
    runtime = await _runtime(tmp_path, url, store, clock=clock)
    try:
        assert _count(runtime, "a") == 3
        outbox = store.outbox_size("io.statefun.playground/egress", "out")
        assert outbox == 4  # three for a, one for b: unread records wait in the durable queue
        await clock.advance(timedelta(milliseconds=299))
        assert _count(runtime, "b") == 1  # not yet due
        await clock.advance(timedelta(milliseconds=1))
        await eventually(lambda: _count(runtime, "b") == 2, timeout=5)  # the timer fired
    finally:
        await runtime.stop()


async def test_a_second_baton_on_the_same_data_dir_is_refused(tmp_path):
    store = SqliteStore(tmp_path)
    try:
        with pytest.raises(StoreError, match="in use by another baton"):
            SqliteStore(tmp_path)
    finally:
        store.close()
    SqliteStore(tmp_path).close()  # free again once the first one closed


def test_a_file_from_a_newer_schema_is_refused(tmp_path):
    SqliteStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "baton.db") as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer baton"):
        SqliteStore(tmp_path)


def test_a_corrupt_file_is_refused_and_left_alone(tmp_path):
    garbage = b"this is not a database" * 100
    (tmp_path / "baton.db").write_bytes(garbage)
    with pytest.raises(StoreError, match="not a usable baton database"):
        SqliteStore(tmp_path)
    assert (tmp_path / "baton.db").read_bytes() == garbage  # never silently reset


async def test_a_full_disk_pauses_ingress_and_loses_nothing(tmp_path, function_server):
    url = await function_server(counter_functions())
    store = SqliteStore(tmp_path / "data")
    runtime = await _runtime(tmp_path, url, store)
    try:
        await runtime.ingest(Message(Address("example", "counter", "x"), None, JSON.typename, b"{}"))
        await eventually(lambda: _count(runtime, "x") == 1)
        pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
        store._writer.execute(f"PRAGMA max_page_count={pages}")  # the disk is now "full"
        big = json.dumps({"label": "x" * 200_000}).encode()
        message = Message(Address("example", "counter", "x"), None, JSON.typename, big)
        import asyncio

        pending = asyncio.create_task(runtime.ingest(message))
        await eventually(lambda: store.error is not None)
        assert "full" in store.error
        assert not pending.done()  # not acknowledged while it cannot be persisted
        store._writer.execute("PRAGMA max_page_count=1073741823")  # space again
        await asyncio.wait_for(pending, 10)
        assert store.error is None
        await eventually(lambda: _count(runtime, "x") == 2)
    finally:
        await runtime.stop()


async def test_a_timer_due_while_down_fires_right_after_start(tmp_path, function_server):
    clock = VirtualClock()
    url = await function_server(counter_functions())
    runtime = await _runtime(tmp_path, url, clock=clock)
    await runtime.ingest(Message(Address("example", "counter", "t"), None, JSON.typename,
                                 json.dumps({"later_ms": 1500}).encode()))
    await eventually(lambda: _count(runtime, "t") == 1)
    await runtime.stop()
    with sqlite3.connect(tmp_path / "data" / "baton.db") as db:
        [(fire_at,)] = db.execute("SELECT fire_at FROM delayed").fetchall()
    assert fire_at == pytest.approx(clock.now() + 1.5)  # still pending when baton stopped

    await clock.advance(timedelta(hours=1))  # the scenario: down past the due time
    runtime = await _runtime(tmp_path, url, clock=clock)
    try:
        # Fired at start: the clock no longer moves, so a fresh 1.5 s delay would never end.
        await eventually(lambda: _count(runtime, "t") == 2, timeout=5)
    finally:
        await runtime.stop()


async def test_state_cache_is_bounded_and_never_forgets_unsaved_changes(tmp_path):
    from baton.runtime import sqlite_store
    from baton.runtime.store import StoredValue

    store = SqliteStore(tmp_path, max_cached=10)
    await store.start()
    try:
        def value(n: int) -> StoredValue:
            return StoredValue("io.statefun.types/int", IntType.serializer().serialize(n))

        # 3,000 addresses changed in one epoch: none may be evicted before it is committed.
        for n in range(3000):
            store.put_state(Address("c", "n", str(n)), "v", value(n))
        assert len(store._states) == 3000
        await store.durable()
        for n in range(3000, 6000):  # reads of other addresses now push the saved ones out
            store.states(Address("c", "n", str(n)))
        assert len(store._states) <= 10 + sqlite_store._EVICT_BATCH
        for n in (0, 1500, 2999):  # evicted, read back from the file, unchanged
            stored = store.states(Address("c", "n", str(n)))["v"]
            assert IntType.serializer().deserialize(stored.value) == n
    finally:
        store.close()


async def test_waiters_of_one_epoch_share_its_commit_and_a_cancelled_one_leaves_the_others(tmp_path):
    import asyncio
    import sqlite3 as sqlite

    from baton.runtime.store import StoredValue

    store = SqliteStore(tmp_path)
    await store.start()
    try:
        stored = StoredValue("io.statefun.types/int", IntType.serializer().serialize(1))
        store.put_state(Address("c", "n", "a"), "v", stored)
        waiters = [asyncio.create_task(store.durable()) for _ in range(3)]
        await asyncio.sleep(0)  # every waiter waits on the open epoch now
        waiters[0].cancel()
        await asyncio.wait_for(asyncio.gather(*waiters[1:]), 5)
        assert waiters[0].cancelled()
        with sqlite.connect(tmp_path / "baton.db") as db:  # durable() returned: it is in the file
            assert db.execute("SELECT count(*) FROM state").fetchone() == (1,)
    finally:
        store.close()
