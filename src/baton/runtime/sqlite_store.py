"""The durable store: one SQLite file (WAL), committed in epochs, like a Flink checkpoint.

Work happens in memory (this class *is* a MemoryStore); every change is also written to a
journal. Every few milliseconds the journal of the epoch is swapped out and written in one
transaction on a worker thread, while the next epoch accumulates. A message appended and
consumed inside one epoch never touches the disk. Ingress waits for `durable()` before it
acknowledges; egress records become readable only once their epoch is committed.

State values are read through: they are loaded from the file the first time an address is
touched, so a restart does not read every entity. Schema: see `SCHEMA` below (and the README).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from baton.runtime.address import Address
from baton.runtime.messages import DelayedMessage, EgressRecord, Message
from baton.runtime.store import DeadLetter, MemoryStore, Parked, StoredValue, key_digest

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
DB_NAME = "baton.db"
LOCK_NAME = "baton.lock"
_MAX_GATHER_S = 0.010  # an epoch gathers changes for at most this long, however slow commits are

SCHEMA = """
CREATE TABLE IF NOT EXISTS state (      -- one row per state value of an address
    address    TEXT NOT NULL,           -- namespace/type/id (a '/' or '%' in namespace or type: %2F, %25)
    name       TEXT NOT NULL,           -- the ValueSpec name
    typename   TEXT NOT NULL,           -- e.g. io.statefun.types/int
    value      BLOB NOT NULL,           -- the raw bytes the function wrote
    expires_at REAL,                    -- epoch seconds, NULL = no TTL
    PRIMARY KEY (address, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailbox (    -- messages accepted but not yet applied, FIFO by seq
    seq      INTEGER PRIMARY KEY,
    address  TEXT NOT NULL,
    caller   TEXT,                      -- NULL for ingress messages
    typename TEXT NOT NULL,
    value    BLOB                       -- NULL = has_value false
);
CREATE TABLE IF NOT EXISTS delayed (    -- delayed messages not yet fired or cancelled
    seq      INTEGER PRIMARY KEY,
    fire_at  REAL NOT NULL,             -- epoch seconds
    address  TEXT NOT NULL,
    caller   TEXT,
    typename TEXT NOT NULL,
    value    BLOB,
    token    TEXT NOT NULL DEFAULT ''   -- cancellation token, scoped by the caller's id
);
CREATE TABLE IF NOT EXISTS parked (     -- addresses that stopped being invoked, and why
    address TEXT PRIMARY KEY,
    reason  TEXT NOT NULL,
    since   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    address  TEXT NOT NULL,
    caller   TEXT,
    typename TEXT NOT NULL,
    value    BLOB,
    reason   TEXT NOT NULL,
    at       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ingress_keys ( -- idempotency keys of accepted ingress messages
    key TEXT PRIMARY KEY,                 -- sha256 (hex) of the Idempotency-Key
    at  REAL NOT NULL                     -- accepted at (epoch s); forgotten after the window
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ingress_keys_at ON ingress_keys (at);
CREATE TABLE IF NOT EXISTS outbox (     -- egress records not yet taken by a reader/publisher
    seq      INTEGER PRIMARY KEY,
    egress   TEXT NOT NULL,             -- egress id namespace/type
    topic    TEXT NOT NULL,
    typename TEXT NOT NULL,
    value    BLOB
);
""" + (
    _SCHEMA_3 := """
CREATE TABLE IF NOT EXISTS source_positions ( -- where each partition of a source resumes
    source    TEXT NOT NULL,            -- the ingress id, e.g. example/names
    partition TEXT NOT NULL,            -- e.g. Kafka `topic/0`
    position  TEXT NOT NULL,            -- e.g. the next Kafka offset to read
    PRIMARY KEY (source, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequences (  -- counters that must never go back, e.g. outbox seq
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
"""
)


Fsync = Literal["normal", "full"]

_EVICT_BATCH = 1000
_CACHED_KEYS = 10_000  # idempotency keys kept in memory; older ones are read from the file
_EXPIRE_KEYS_EVERY_S = 60.0

# The tables every baton database has had since schema 1 (a database missing one lost it).
_TABLES = ("state", "mailbox", "delayed", "parked", "dead_letters", "ingress_keys", "outbox")
# Columns holding an address, by table (schema 2 stores `Address.key`).
_ADDRESS_COLUMNS = {
    "state": ("address",), "mailbox": ("address", "caller"), "delayed": ("address", "caller"),
    "parked": ("address",), "dead_letters": ("address", "caller"),
}


def _migrate_to_2(db: sqlite3.Connection) -> None:
    """Addresses stored as `Address.key` (unambiguous), idempotency keys as their digest."""
    db.create_function("baton_key", 1, lambda text: text and Address.parse(text).key)
    db.create_function("baton_digest", 1, key_digest)
    for table, columns in _ADDRESS_COLUMNS.items():
        sets = ", ".join(f"{c} = baton_key({c})" for c in columns)
        db.execute(f"UPDATE {table} SET {sets}")  # names from the constant above
    db.execute("UPDATE ingress_keys SET key = baton_digest(key)")
    db.execute("CREATE INDEX IF NOT EXISTS ingress_keys_at ON ingress_keys (at)")


# Migration steps: MIGRATIONS[n] turns a schema n-1 database into schema n. Each runs in the
# transaction that sets `user_version` to n, so a crash leaves the old schema whole.
def _migrate_to_3(db: sqlite3.Connection) -> None:
    """Source positions (Kafka offsets in the epoch) and never-reused outbox seqs."""
    for statement in _SCHEMA_3.split(";"):
        if statement.strip():
            db.execute(statement)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {2: _migrate_to_2, 3: _migrate_to_3}


class StoreError(Exception):
    """The data directory cannot be used; the message says why and what to do."""


@dataclass
class _Journal:
    """Every change of one epoch, in the form the SQL writes need."""

    states: dict[tuple[Address, str], StoredValue | None] = field(default_factory=dict)
    mail_in: dict[int, Message] = field(default_factory=dict)
    mail_out: list[int] = field(default_factory=list)
    delayed_in: dict[int, DelayedMessage] = field(default_factory=dict)
    delayed_out: list[int] = field(default_factory=list)
    parked: dict[Address, Parked | None] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    outbox_in: dict[int, EgressRecord] = field(default_factory=dict)
    outbox_out: list[int] = field(default_factory=list)
    positions: dict[tuple[str, str], str] = field(default_factory=dict)
    ingress_keys: dict[str, float] = field(default_factory=dict)
    keys_expire_before: float | None = None  # delete keys accepted before this
    touched: set[Address] = field(default_factory=set)  # addresses whose state changed

    def size(self) -> int:
        """How many changes it holds (the epoch's size)."""
        return (
            len(self.states) + len(self.mail_in) + len(self.mail_out) + len(self.delayed_in)
            + len(self.delayed_out) + len(self.parked) + len(self.dead_letters)
            + len(self.outbox_in) + len(self.outbox_out) + len(self.ingress_keys) + len(self.positions)
        )

    def __bool__(self) -> bool:
        return bool(
            self.states or self.mail_in or self.mail_out or self.delayed_in or self.delayed_out
            or self.parked or self.dead_letters or self.outbox_in or self.outbox_out
            or self.positions or self.ingress_keys
        )


def _addr(key: str | None) -> Address | None:
    return Address.from_key(key) if key else None


def _key(address: Address | None) -> str | None:
    return address.key if address is not None else None


def _set_up(db: sqlite3.Connection, fsync: Fsync) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable against process crashes (kill -9) in WAL mode; FULL also against an
    # OS crash or power loss (an fsync per commit).
    db.execute(f"PRAGMA synchronous={'FULL' if fsync == 'full' else 'NORMAL'}")


class SqliteStore(MemoryStore):
    """A MemoryStore whose every change is committed to `<data_dir>/baton.db` in epochs."""

    def __init__(
        self, data_dir: str | os.PathLike[str], *, epoch_ms: float = 1.0,
        max_cached: int = 200_000, fsync: Fsync = "normal",
    ) -> None:
        super().__init__()
        # State values of at most about this many addresses stay in memory (~0.6 KB each);
        # others are read again from the file (~10 µs) when touched.
        self._max_cached = max_cached
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self._existed = self.path.exists()
        self._epoch_s = epoch_ms / 1000.0
        self._lock_file = self._lock(self.data_dir)
        try:
            self._writer = self._connect()
            self._open_schema(self._writer, fsync)
            self._reader = self._connect(fsync)
        except BaseException:
            self._lock_file.close()
            raise
        self._keys_expired_at = 0.0
        self._journal = _Journal()
        self._failed: list[_Journal] = []  # written again, first, by the next commit
        self._writing: list[_Journal] = []  # being written by the commit in progress
        # Resolved when the epoch accumulating now commits: one future per caller of durable(),
        # so a cancelled caller cancels only its own (a shared one would need asyncio.shield:
        # another future and loop hop per caller). Those of failed epochs are resolved by the
        # next commit, which writes their journals again.
        self._epoch_waiters: list[asyncio.Future[None]] = []
        self._failed_done: list[asyncio.Future[None]] = []
        self._kick: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._commit_lock: asyncio.Lock | None = None
        self.error: str | None = None  # the last commit failure, until a commit succeeds
        self._crashed = False  # see crash()
        self._load()

    # --- opening ---------------------------------------------------------------------------

    @staticmethod
    def _lock(data_dir: Path):
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create data dir {data_dir}: {error}") from None
        try:
            handle = open(data_dir / LOCK_NAME, "a+")  # noqa: SIM115 (held open: the lock lives with it)
        except OSError as error:
            raise StoreError(
                f"cannot write to data dir {data_dir} ({error.strerror}); make it writable for "
                "this user, or use another --data-dir"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StoreError(
                f"{data_dir} is in use by another baton (pid {owner}); stop it first, or use "
                "another --data-dir"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _connect(self, fsync: Fsync | None = None) -> sqlite3.Connection:
        """A connection; with `fsync`, set up for use (WAL), else untouched (to check first)."""
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            if fsync is not None:
                _set_up(conn, fsync)
            return conn
        except sqlite3.DatabaseError as error:
            raise self._unusable(error) from None

    def _unusable(self, error: sqlite3.Error) -> StoreError:
        code = getattr(error, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_READONLY:
            return StoreError(
                f"{self.path} is read-only ({error}); baton must write to it: make the file and "
                "its directory writable for this user"
            )
        if code == sqlite3.SQLITE_CANTOPEN:
            return StoreError(
                f"cannot open {self.path} ({error}); check that its directory is writable for "
                "this user"
            )
        return StoreError(
            f"{self.path} is not a usable baton database ({error}); baton never resets a data "
            "dir: restore it from a backup, or move it away to start empty"
        )

    def _open_schema(self, db: sqlite3.Connection, fsync: Fsync) -> None:
        """Create the schema in a new file, or check and migrate an existing one.

        A file that exists but holds no baton tables (0 bytes, or its WAL deleted before a
        checkpoint) is refused: starting empty there would silently lose everything.
        """
        try:  # reads only: a file that is refused is left exactly as it was
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as error:
            raise self._unusable(error) from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer baton (schema {version}; this baton "
                f"reads up to {SCHEMA_VERSION}); upgrade baton to open it"
            )
        if version == 0 and (tables or self._existed):
            raise StoreError(
                f"{self.path} exists but holds no baton tables ({self.path.stat().st_size} "
                "bytes): it is not a baton database, or lost its contents (e.g. its -wal file "
                "was deleted). baton never resets a data dir: restore it from a backup, or move "
                "it away to start empty"
            )
        missing = [t for t in _TABLES if t not in tables] if version else []
        if missing:
            raise StoreError(
                f"{self.path} (schema {version}) lost its tables {', '.join(missing)} (e.g. its "
                "-wal file was deleted while baton ran); baton never resets a data dir: restore "
                "it from a backup, or move it away to start empty"
            )
        try:
            db.execute("BEGIN IMMEDIATE")  # a write, undone: fails at once on a read-only file
            db.execute(f"PRAGMA user_version={version}")
            db.execute("ROLLBACK")
            _set_up(db, fsync)
        except sqlite3.DatabaseError as error:
            raise self._unusable(error) from None
        if version == 0:
            db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
            return
        for step in range(version + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version={step}")
                db.execute("COMMIT")
            except sqlite3.Error as error:
                db.execute("ROLLBACK")
                raise StoreError(
                    f"cannot migrate {self.path} from schema {step - 1} to {step} ({error}); "
                    "the file is unchanged: keep using the baton that wrote it, or report this"
                ) from None
            log.info("migrated %s to schema %d", self.path, step)

    def _load(self) -> None:
        """Load everything but state values (those are read through on first touch)."""
        try:
            self._load_rows()
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"{self.path} is corrupt ({error}); restore it from a backup, or move it away "
                "to start empty"
            ) from None

    def _load_rows(self) -> None:
        db = self._reader
        for seq, address, caller, typename, value in db.execute(
            "SELECT seq, address, caller, typename, value FROM mailbox ORDER BY seq"
        ):
            MemoryStore.append(self, Message(Address.from_key(address), _addr(caller), typename, value, seq))
        self._next_mail = (db.execute("SELECT max(seq) FROM mailbox").fetchone()[0] or 0) + 1
        for seq, fire_at, address, caller, typename, value, token in db.execute(
            "SELECT seq, fire_at, address, caller, typename, value, token FROM delayed"
        ):
            message = Message(Address.from_key(address), _addr(caller), typename, value)
            delayed = DelayedMessage(fire_at, message, token, seq)
            self._delayed[seq] = delayed
            if token:
                self._tokens[(delayed.scope, token)] = delayed
        self._next_seq = db.execute("SELECT max(seq) FROM delayed").fetchone()[0] or 0
        for address, reason, since in db.execute("SELECT address, reason, since FROM parked"):
            self._parked[Address.from_key(address)] = Parked(reason, since)
        for address, caller, typename, value, reason, at in db.execute(
            "SELECT address, caller, typename, value, reason, at FROM dead_letters ORDER BY seq"
        ):
            message = Message(Address.from_key(address), _addr(caller), typename, value)
            self._dead_letters.append(DeadLetter(message, reason, at))
        for seq, egress, topic, typename, value in db.execute(
            "SELECT seq, egress, topic, typename, value FROM outbox ORDER BY seq"
        ):
            MemoryStore.publish(self, EgressRecord(egress, typename, value, topic, seq))
        # Never reuse an outbox seq, even once every record was taken: an exactly-once publisher
        # remembers the highest seq its sink holds and skips records at or below it.
        used = db.execute(
            "SELECT max(coalesce((SELECT max(seq) FROM outbox), 0),"
            " coalesce((SELECT value FROM sequences WHERE name = 'outbox'), 0))"
        ).fetchone()[0]
        self._next_outbox = used + 1
        for source, partition, position in db.execute(
            "SELECT source, partition, position FROM source_positions"
        ):
            self._positions.setdefault(source, {})[partition] = position

    # --- state (read through) --------------------------------------------------------------

    def states(self, address: Address) -> dict[str, StoredValue]:
        values = self._states.get(address)
        if values is None:
            if len(self._states) >= self._max_cached + _EVICT_BATCH:
                self._evict()  # before loading: the caller may be about to change this one
            values = self._states[address] = {
                name: StoredValue(typename, value, expires_at)
                for name, typename, value, expires_at in self._reader.execute(
                    "SELECT name, typename, value, expires_at FROM state WHERE address = ?",
                    (address.key,),
                )
            }
        return values

    def _evict(self) -> None:
        """Forget the oldest-loaded addresses whose state equals what the file holds."""
        unsaved = [self._journal, *self._writing, *self._failed]
        doomed = []
        for address in self._states:
            if not any(address in journal.touched for journal in unsaved):
                doomed.append(address)
                if len(doomed) == _EVICT_BATCH:
                    break
        for address in doomed:
            del self._states[address]

    def put_state(self, address: Address, name: str, value: StoredValue | None) -> None:
        values = self.states(address)  # load first: the other names must survive
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
        self._journal.states[(address, name)] = value
        self._journal.touched.add(address)
        self._dirty()

    def addresses_with_state(self, namespace: str, type_: str) -> list[Address]:
        prefix = Address(namespace, type_, "").key
        stored = {
            Address.from_key(row[0])
            for row in self._reader.execute(
                "SELECT DISTINCT address FROM state WHERE address >= ? AND address < ?",
                (prefix, prefix[:-1] + "0"),  # '0' follows '/': a range scan on the key
            )
        }
        cached = {a for a in self._states if a.namespace == namespace and a.type == type_}
        return sorted(a for a in stored | cached if self.states(a))

    def address_page(
        self, namespace: str, type_: str, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[Address]:
        # A range scan on the primary key, merged with the addresses cached in memory (their
        # state may not be committed yet); each candidate is checked against the live state.
        base = f"{namespace}/{type_}/"
        low, high = base + prefix, base + prefix + "\U0010ffff"
        if after is not None and base + after >= low:
            low = base + after + "\x00"  # strictly after
        page: list[Address] = []
        while len(page) < limit:
            stored = [
                Address.parse(row[0])
                for row in self._reader.execute(
                    "SELECT DISTINCT address FROM state WHERE address >= ? AND address < ? "
                    "ORDER BY address LIMIT ?",
                    (low, high, limit),
                )
            ]
            cached = sorted(
                a for a in self._states
                if a.namespace == namespace and a.type == type_ and low <= str(a) < high
            )[:limit]
            candidates = sorted(set(stored) | set(cached), key=str)[: limit - len(page)]
            if not candidates:
                break
            page.extend(a for a in candidates if self.states(a))
            low = str(candidates[-1]) + "\x00"
        return page

    # --- mailboxes -------------------------------------------------------------------------

    def append(self, message: Message) -> None:
        message.seq = self._next_mail
        self._next_mail += 1
        super().append(message)
        self._journal.mail_in[message.seq] = message
        self._dirty()

    def drop_head(self, address: Address, count: int) -> list[Message]:
        dropped = super().drop_head(address, count)
        journal = self._journal
        for message in dropped:
            if journal.mail_in.pop(message.seq, None) is None:
                journal.mail_out.append(message.seq)
        self._dirty()
        return dropped

    # --- delayed messages ------------------------------------------------------------------

    def add_delayed(self, delayed: DelayedMessage) -> None:
        super().add_delayed(delayed)
        self._journal.delayed_in[delayed.seq] = delayed
        self._dirty()

    def remove_delayed(self, delayed: DelayedMessage) -> None:
        super().remove_delayed(delayed)
        if self._journal.delayed_in.pop(delayed.seq, None) is None:
            self._journal.delayed_out.append(delayed.seq)
        self._dirty()

    # --- parked, dead letters --------------------------------------------------------------

    def park(self, address: Address, reason: str, since: float) -> None:
        super().park(address, reason, since)
        self._journal.parked[address] = self._parked[address]
        self._dirty()

    def unpark(self, address: Address) -> None:
        super().unpark(address)
        self._journal.parked[address] = None
        self._dirty()

    def add_dead_letter(self, letter: DeadLetter) -> None:
        super().add_dead_letter(letter)
        self._journal.dead_letters.append(letter)
        self._dirty()

    # --- outbox: readable only once committed ----------------------------------------------

    def publish(self, record: EgressRecord) -> None:
        record.seq = self._next_outbox
        self._next_outbox += 1
        self._journal.outbox_in[record.seq] = record
        self._dirty()

    def take(self, egress: str, topic: str) -> EgressRecord | None:
        record = super().take(egress, topic)
        if record is not None:
            self._journal.outbox_out.append(record.seq)
            self._dirty()
        return record

    def acknowledge(self, records: Sequence[EgressRecord]) -> None:
        super().acknowledge(records)
        self._journal.outbox_out.extend(record.seq for record in records)
        self._dirty()

    # --- source positions ------------------------------------------------------------------

    def set_position(self, source: str, partition: str, position: str) -> None:
        super().set_position(source, partition, position)
        self._journal.positions[(source, partition)] = position
        self._dirty()

    # --- ingress idempotency keys (read through, like state) ---------------------------------

    def seen_ingress_key(self, key: str, not_before: float) -> bool:
        if super().seen_ingress_key(key, not_before):
            return True
        for journal in (self._journal, *self._writing, *self._failed):  # not in the file yet
            at = journal.ingress_keys.get(key)
            if at is not None and at >= not_before:
                return True
        row = self._reader.execute(
            "SELECT 1 FROM ingress_keys WHERE key = ? AND at >= ?", (key, not_before)
        ).fetchone()
        return row is not None

    def remember_ingress_key(self, key: str, at: float, not_before: float) -> None:
        super().remember_ingress_key(key, at, not_before)
        self._forget_keys_before(not_before, keep=_CACHED_KEYS)  # the rest: read from the file
        journal = self._journal
        journal.ingress_keys[key] = at
        if at - self._keys_expired_at >= _EXPIRE_KEYS_EVERY_S:
            journal.keys_expire_before = not_before
            self._keys_expired_at = at
        self._dirty()

    # --- epochs ----------------------------------------------------------------------------

    def _dirty(self) -> None:
        if self._kick is not None:
            self._kick.set()

    async def start(self) -> None:
        """Start committing epochs in the background."""
        self._kick = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        if self._journal:
            self._kick.set()
        self._task = asyncio.create_task(self._epochs(), name="baton-epochs")

    async def _epochs(self) -> None:
        assert self._kick is not None
        backoff = gather = self._epoch_s
        loop = asyncio.get_running_loop()
        while True:
            await self._kick.wait()
            # Let the epoch gather changes: `epoch_ms` when it is quiet; under load as long as
            # the last commit took, so a commit's fixed cost (the transaction, every dirty page
            # written again) is shared by more changes, at the price of that much latency.
            await asyncio.sleep(gather)
            started = loop.time()
            try:
                await self.commit()
                backoff = self._epoch_s
                gather = min(max(self._epoch_s, loop.time() - started), _MAX_GATHER_S)
            except sqlite3.Error:
                backoff = min(backoff * 2, 1.0)
                await asyncio.sleep(backoff)
                self._kick.set()

    async def commit(self) -> None:
        """Write the current epoch in one transaction (and any epoch that failed before)."""
        if self._crashed:
            return
        if self._commit_lock is None:  # not started: write synchronously (tests, tools)
            journals = [*self._failed, self._journal]
            self._write(journals)
            self._failed, self._journal = [], _Journal()
            for done in journals:
                self._release(done)
            return
        async with self._commit_lock:
            assert self._kick is not None
            self._kick.clear()
            journal = self._journal
            waiting = [*self._failed_done, *self._epoch_waiters]
            self._journal, self._epoch_waiters, self._failed_done = _Journal(), [], []
            journals = self._writing = [*self._failed, journal]
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self._write, journals)
            except sqlite3.Error as error:
                if self.epochs is not None:
                    self.epochs.failures += 1
                self._failed, self._writing, self._failed_done = journals, [], waiting
                if self.error is None:
                    log.error("cannot commit to %s: %s; retrying, ingress is paused", self.path, error,
                              extra={"event": "commit_failed", "path": str(self.path), "error": str(error)})
                self.error = self._commit_failure(error)
                raise
            self._failed, self._writing = [], []
            if self.epochs is not None:
                self.epochs.committed(time.perf_counter() - started, sum(j.size() for j in journals))
            if self.error is not None:
                log.warning("commits to %s work again", self.path,
                            extra={"event": "commit_recovered", "path": str(self.path)})
                self.error = None
            for done in journals:
                self._release(done)
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_result(None)

    def _commit_failure(self, error: sqlite3.Error) -> str:
        if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return (
                f"the disk holding {self.path} is full; free space there: commits resume by "
                "themselves and nothing accepted is lost"
            )
        return f"cannot commit to {self.path}: {error}"

    def _release(self, journal: _Journal) -> None:
        for record in journal.outbox_in.values():
            MemoryStore.publish(self, record)

    async def durable(self) -> None:
        """Return once every change made so far is committed."""
        if self._commit_lock is None:  # not started: every change is written synchronously
            return
        done = asyncio.get_running_loop().create_future()
        self._epoch_waiters.append(done)
        self._dirty()
        await done

    def _write(self, journals: list[_Journal]) -> None:
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        try:
            for journal in journals:
                _write_journal(db, journal)
            db.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (SQLITE_FULL does): a second rollback would
            # raise "no transaction is active" and hide the real error.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def crash(self) -> None:
        """Stop as `kill -9` would (for `baton.testing`): nothing uncommitted is ever written.

        An epoch being written right now still commits (or not), as it would in a real crash.
        Then `close()` releases the file without writing.
        """
        self._crashed = True
        if self._task is not None:
            self._task.cancel()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if (self._journal or self._failed) and not self._crashed:
            try:
                self._write([*self._failed, self._journal])
                self._failed, self._journal = [], _Journal()
            except sqlite3.Error as error:
                log.error("could not write the last epoch to %s: %s", self.path, error)
        self._writer.close()
        self._reader.close()
        self._lock_file.close()


def _many(db: sqlite3.Connection, sql: str, rows: Iterable[Sequence[object]]) -> None:
    """`executemany`, skipped for no rows: an epoch under load touches a few tables of many."""
    batch = rows if isinstance(rows, list) else list(rows)
    if batch:
        db.executemany(sql, batch)


def _write_journal(db: sqlite3.Connection, j: _Journal) -> None:
    upserts, deletes = [], []
    for (address, name), value in j.states.items():
        if value is None:
            deletes.append((address.key, name))
        else:
            upserts.append((address.key, name, value.typename, value.value, value.expires_at))
    _many(db, "INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?)", upserts)
    _many(db, "DELETE FROM state WHERE address = ? AND name = ?", deletes)
    _many(
        db, "INSERT INTO mailbox VALUES (?, ?, ?, ?, ?)",
        [
            (m.seq, m.target.key, _key(m.caller), m.typename, m.value)
            for m in j.mail_in.values()
        ],
    )
    _many(db, "DELETE FROM mailbox WHERE seq = ?", [(s,) for s in j.mail_out])
    _many(
        db, "INSERT INTO delayed VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                d.seq, d.fire_at, d.message.target.key, _key(d.message.caller),
                d.message.typename, d.message.value, d.token,
            )
            for d in j.delayed_in.values()
        ],
    )
    _many(db, "DELETE FROM delayed WHERE seq = ?", [(s,) for s in j.delayed_out])
    for address, parked in j.parked.items():
        if parked is None:
            db.execute("DELETE FROM parked WHERE address = ?", (address.key,))
        else:
            db.execute(
                "INSERT OR REPLACE INTO parked VALUES (?, ?, ?)",
                (address.key, parked.reason, parked.since),
            )
    _many(
        db, "INSERT INTO dead_letters (address, caller, typename, value, reason, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                d.message.target.key, _key(d.message.caller),
                d.message.typename, d.message.value, d.reason, d.at,
            )
            for d in j.dead_letters
        ],
    )
    _many(
        db, "INSERT INTO outbox VALUES (?, ?, ?, ?, ?)",
        [(r.seq, r.egress, r.topic, r.typename, r.value) for r in j.outbox_in.values()],
    )
    _many(db, "DELETE FROM outbox WHERE seq = ?", [(s,) for s in j.outbox_out])
    if j.outbox_in:
        db.execute(
            "INSERT INTO sequences VALUES ('outbox', ?) ON CONFLICT (name) DO UPDATE"
            " SET value = max(value, excluded.value)",
            (max(j.outbox_in),),
        )
    _many(
        db, "INSERT OR REPLACE INTO source_positions VALUES (?, ?, ?)",
        [(source, partition, position) for (source, partition), position in j.positions.items()],
    )
    _many(db, "INSERT OR REPLACE INTO ingress_keys VALUES (?, ?)", j.ingress_keys.items())
    if j.keys_expire_before is not None:
        db.execute("DELETE FROM ingress_keys WHERE at < ?", (j.keys_expire_before,))


__all__ = ["SCHEMA", "SCHEMA_VERSION", "SqliteStore", "StoreError"]
