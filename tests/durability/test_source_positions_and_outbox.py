"""The connector seams in the store: source positions in the epoch, the outbox for publishers."""

from __future__ import annotations

import sqlite3

import pytest

from baton.module import load_module_text
from baton.module.typename import TypeName
from baton.runtime import Address, Runtime
from baton.runtime.connectors.source import unroutable
from baton.runtime.messages import EgressRecord, Message, SourcePosition
from baton.runtime.sqlite_store import SCHEMA_VERSION, SqliteStore
from baton.runtime.store import MemoryStore, Store
from tests.conftest import playground_module


def _stores(tmp_path) -> list[Store]:
    return [MemoryStore(), SqliteStore(tmp_path / "data")]


def test_positions_are_kept_per_source_and_partition(tmp_path):
    for store in _stores(tmp_path):
        store.set_position("in/a", "orders/0", "10")
        store.set_position("in/a", "orders/0", "11")
        store.set_position("in/a", "orders/1", "3")
        store.set_position("in/b", "shard-0", "4951")
        assert store.positions("in/a") == {"orders/0": "11", "orders/1": "3"}
        assert store.positions("in/b") == {"shard-0": "4951"}
        assert store.positions("in/none") == {}
        store.close()


async def test_positions_survive_a_restart(tmp_path):
    store = SqliteStore(tmp_path / "data")
    await store.start()
    store.set_position("in/a", "orders/0", "42")
    await store.durable()
    store.close()
    assert SqliteStore(tmp_path / "data").positions("in/a") == {"orders/0": "42"}


def test_a_version_2_file_is_migrated_and_keeps_its_rows(tmp_path):
    data = tmp_path / "data"
    SqliteStore(data).close()  # a current file, then taken back to schema 2
    db = sqlite3.connect(data / "baton.db")
    db.executescript("DROP TABLE source_positions; DROP TABLE sequences; PRAGMA user_version=2;")
    db.execute("INSERT INTO outbox VALUES (7, 'out/k', 't', 'x/y', X'01')")
    db.commit()
    db.close()
    store = SqliteStore(data)
    assert [r.seq for r in store.pending("out/k", 10)] == [7]
    store.set_position("in/a", "t/0", "5")
    store.close()
    db = sqlite3.connect(data / "baton.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT * FROM source_positions").fetchall() == [("in/a", "t/0", "5")]


def _record(egress: str, topic: str, n: int) -> EgressRecord:
    return EgressRecord(egress, "x/y", str(n).encode(), topic)


async def test_pending_spans_topics_in_seq_order_and_only_acknowledged_records_leave(tmp_path):
    for store in _stores(tmp_path):
        await store.start()
        for n in range(6):
            store.publish(_record("out/k", f"t{n % 2}", n))
        store.publish(_record("out/other", "t0", 99))
        await store.durable()
        first = store.pending("out/k", 4)
        assert [r.value for r in first] == [b"0", b"1", b"2", b"3"]
        assert store.pending("out/k", 4) == first  # peeking takes nothing
        store.acknowledge(first)
        assert [r.value for r in store.pending("out/k", 10)] == [b"4", b"5"]
        assert [r.value for r in store.pending("out/other", 10)] == [b"99"]
        await store.commit()
        store.close()
    reopened = SqliteStore(tmp_path / "data")
    assert [r.value for r in reopened.pending("out/k", 10)] == [b"4", b"5"]


async def test_uncommitted_records_are_not_pending(tmp_path):
    store = SqliteStore(tmp_path / "data")  # not started: nothing commits on its own
    store.publish(_record("out/k", "t", 1))
    assert store.pending("out/k", 10) == []
    await store.commit()
    assert len(store.pending("out/k", 10)) == 1
    store.close()


async def test_outbox_seqs_never_go_back_even_when_the_outbox_was_emptied(tmp_path):
    store = SqliteStore(tmp_path / "data")
    for n in range(3):
        store.publish(_record("out/k", "t", n))
    await store.commit()
    records = store.pending("out/k", 10)
    store.acknowledge(records)
    store.close()
    store = SqliteStore(tmp_path / "data")
    assert store.pending("out/k", 10) == []
    store.publish(_record("out/k", "t", 3))
    await store.commit()
    assert [r.seq for r in store.pending("out/k", 10)] == [records[-1].seq + 1]
    store.close()


async def test_a_record_and_its_position_commit_in_the_same_epoch(tmp_path):
    """Between delivering a record's messages and storing its position nothing can commit."""
    module = load_module_text(playground_module("http://127.0.0.1:9/"), "module.yaml")
    store = SqliteStore(tmp_path / "data")
    runtime = Runtime(module, store, admin_port=None)
    commits: list[tuple[int, int]] = []
    write = store._write

    def spy(journals):  # what each commit holds: mailbox rows and positions
        commits.append((sum(len(j.mail_in) for j in journals), sum(len(j.positions) for j in journals)))
        write(journals)

    store._write = spy  # type: ignore[method-assign]
    await runtime.start()
    try:
        for offset in range(50):
            messages = [
                Message(Address("example", "counter", f"k{offset}"), None, "x/y", b"1"),
                Message(Address("example", "other", f"k{offset}"), None, "x/y", b"1"),
            ]
            await runtime.ingest_record(messages, SourcePosition("in/a", "t/0", str(offset + 1)))
        await runtime.durable()
        assert runtime.positions("in/a") == {"t/0": "50"}
    finally:
        await runtime.stop()
    assert SqliteStore(tmp_path / "data").positions("in/a") == {"t/0": "50"}
    # Every commit that stored a position also stored that record's messages (never apart).
    for mailbox_rows, positions in commits:
        assert positions == 0 or mailbox_rows >= 2, commits


@pytest.mark.parametrize("skip", [False, True])
async def test_a_rejected_record_is_dead_lettered_with_its_position(tmp_path, skip):
    module = load_module_text(playground_module("http://127.0.0.1:9/"), "module.yaml")
    runtime = Runtime(module, SqliteStore(tmp_path / "data"), admin_port=None)
    await runtime.start()
    position = SourcePosition("in/a", "t/0", "8")
    letter = unroutable(position, "kafka t/0 offset 7", "no key", TypeName("example", "counter"),
                        None, "x/y", b"v", 1.0)
    if skip:
        await runtime.ingest_record((), position)
    else:
        runtime.reject_record(position, letter)
    await runtime.durable()
    await runtime.stop()
    reopened = SqliteStore(tmp_path / "data")
    assert reopened.positions("in/a") == {"t/0": "8"}
    letters = reopened.dead_letters()
    expected = [] if skip else [("example/counter/(none)", "kafka t/0 offset 7: no key")]
    assert [(str(d.message.target), d.reason) for d in letters] == expected
