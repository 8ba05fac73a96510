"""Address identity round-trips through the store; invalid typenames are refused at the edge
(issue 12, item 3)."""

from __future__ import annotations

import sqlite3

from statefun import StatefulFunctions, message_builder

from baton.runtime import Address, Message
from baton.runtime.sqlite_store import SCHEMA_VERSION, SqliteStore
from baton.runtime.store import StoredValue, key_digest
from tests.conftest import playground_module
from tests.runtime.test_python_sdk import JSON

# Two addresses whose `str()` is the same "com.example/sub/fn/a".
SLASHED_NAMESPACE = Address("com.example/sub", "fn", "a")
SLASHED_ID = Address("com.example", "sub", "fn/a")
PERCENT = Address("com.example%2Fsub", "fn", "a")  # what an escaped key of the first looks like


def test_addresses_that_print_alike_stay_apart_after_a_restart(tmp_path):
    store = SqliteStore(tmp_path)
    for n, address in enumerate((SLASHED_NAMESPACE, SLASHED_ID, PERCENT)):
        store.put_state(address, "v", StoredValue("io.statefun.types/int", bytes([n])))
        store.append(Message(address, address, JSON.typename, bytes([n])))
    store.park(SLASHED_NAMESPACE, "why", 1.0)
    store.close()

    store = SqliteStore(tmp_path)
    try:
        for n, address in enumerate((SLASHED_NAMESPACE, SLASHED_ID, PERCENT)):
            assert store.states(address)["v"].value == bytes([n])
            [message] = store.head(address, 10)
            assert message.target == address and message.caller == address
            assert message.value == bytes([n])
        assert set(store.parked()) == {SLASHED_NAMESPACE}
        assert store.addresses_with_state("com.example", "sub") == [SLASHED_ID]
    finally:
        store.close()


# The layout of schema 1: addresses as `str(address)`, idempotency keys as sent.
_SCHEMA_1 = """
CREATE TABLE state (address TEXT NOT NULL, name TEXT NOT NULL, typename TEXT NOT NULL,
    value BLOB NOT NULL, expires_at REAL, PRIMARY KEY (address, name)) WITHOUT ROWID;
CREATE TABLE mailbox (seq INTEGER PRIMARY KEY, address TEXT NOT NULL, caller TEXT,
    typename TEXT NOT NULL, value BLOB);
CREATE TABLE delayed (seq INTEGER PRIMARY KEY, fire_at REAL NOT NULL, address TEXT NOT NULL,
    caller TEXT, typename TEXT NOT NULL, value BLOB, token TEXT NOT NULL DEFAULT '');
CREATE TABLE parked (address TEXT PRIMARY KEY, reason TEXT NOT NULL, since REAL NOT NULL);
CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT NOT NULL,
    caller TEXT, typename TEXT NOT NULL, value BLOB, reason TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE ingress_keys (key TEXT PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE outbox (seq INTEGER PRIMARY KEY, egress TEXT NOT NULL, topic TEXT NOT NULL,
    typename TEXT NOT NULL, value BLOB);
PRAGMA user_version=1;
"""


def test_a_schema_1_database_is_migrated_in_place(tmp_path):
    with sqlite3.connect(tmp_path / "baton.db") as db:
        db.executescript(_SCHEMA_1)
        db.execute("INSERT INTO state VALUES ('ex/p%q/x/y', 'v', 't/t', x'01', NULL)")
        db.execute("INSERT INTO mailbox VALUES (7, 'ex/p%q/x/y', 'ex/caller/c', 't/t', x'02')")
        db.execute("INSERT INTO delayed VALUES (3, 1e12, 'ex/p/z', 'ex/p%q/x/y', 't/t', NULL, 'tok')")
        db.execute("INSERT INTO parked VALUES ('ex/p%q/x/y', 'stuck', 1.0)")
        db.execute("INSERT INTO ingress_keys VALUES ('client-key-1', 1e12)")
    store = SqliteStore(tmp_path)
    try:
        address = Address("ex", "p%q", "x/y")
        assert store.states(address)["v"].value == b"\x01"
        [message] = store.head(address, 10)
        assert message.seq == 7 and message.caller == Address("ex", "caller", "c")
        [delayed] = store.all_delayed()
        assert delayed.message.caller == address and delayed.token == "tok"
        assert set(store.parked()) == {address}
        assert store.seen_ingress_key(key_digest("client-key-1"), 0)
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "baton.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT address FROM parked").fetchall() == [("ex/p%25q/x/y",)]


async def test_the_ingress_refuses_a_slash_in_the_type_or_namespace(start_app):
    app = await start_app(playground_module("http://127.0.0.1:9/unused"))
    for path in ("example/a%2Fb/c", "example%2Fsub/fn/c"):
        async with app.session.put(
            f"{app.ingress}/{path}", data=b"{}", headers={"Content-Type": "application/vnd.example/Json"}
        ) as response:
            assert response.status == 400, path
            assert "no other '/'" in await response.text()
    assert app.runtime.status().queued == 0


async def test_a_reply_to_a_typename_with_an_extra_slash_parks_the_sender(function_server, start_app):
    functions = StatefulFunctions()

    @functions.bind("example/sender")
    async def sender(context, message):
        # The SDK takes it: namespace "example/sub", name "fn".
        context.send(message_builder(
            target_typename="example/sub/fn", target_id="x", value={}, value_type=JSON
        ))

    app = await start_app(playground_module(await function_server(functions)))
    assert await app.send("example/sender/s", "{}") == 202
    sender_address = Address("example", "sender", "s")
    await app.runtime.until(lambda: sender_address in app.runtime.parked(), 10)
    reason = app.runtime.parked()[sender_address].reason
    assert "'example/sub'/'fn'" in reason and "no other '/'" in reason
    assert app.runtime.backlog(Address("example", "sub", "fn/x")) == 0  # nothing landed there
