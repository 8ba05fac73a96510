"""The store: state values, mailboxes, delayed messages, parked addresses, egress outbox, source positions.

The dispatcher works against this interface only. `MemoryStore` keeps everything in dicts; the
durable store (SQLite, committed in epochs) records the same operations and persists them. That
is why every change goes through a method here rather than through a shared mutable object.
"""

from __future__ import annotations

import abc
import hashlib
import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from baton.runtime.address import Address
from baton.runtime.messages import DelayedMessage, EgressRecord, Message
from baton.runtime.metrics import EpochMetrics


def key_digest(key: str) -> str:
    """What is stored of an idempotency key: a fixed-size digest, however long the key."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(slots=True)
class StoredValue:
    """One state value: the registered typename, the raw bytes, and when it expires (epoch s)."""

    typename: str
    value: bytes
    expires_at: float | None = None

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(slots=True)
class Parked:
    """Why an address stopped being invoked, and since when (epoch s, from the runtime's clock)."""

    reason: str
    since: float


@dataclass(slots=True)
class DeadLetter:
    """A message taken out of a mailbox by an operator, with the reason its address was parked."""

    message: Message
    reason: str
    at: float  # epoch s, from the runtime's clock


class Store(abc.ABC):
    """Everything the runtime must not lose."""

    # Called when an egress record becomes readable (for a durable store: once committed).
    on_released: Callable[[EgressRecord], None] | None = None
    # Where a durable store counts its epoch commits (set by the runtime).
    epochs: EpochMetrics | None = None
    # The last durability failure (e.g. a full disk), until the store works again.
    error: str | None = None

    # --- state ---
    @abc.abstractmethod
    def states(self, address: Address) -> dict[str, StoredValue]:
        """The address's state values by name (read-only view)."""

    @abc.abstractmethod
    def put_state(self, address: Address, name: str, value: StoredValue | None) -> None:
        """Set (or, with None, delete) one state value."""

    @abc.abstractmethod
    def addresses_with_state(self, namespace: str, type_: str) -> list[Address]:
        """Every address of a function type that holds state (for listings, not hot paths)."""

    @abc.abstractmethod
    def address_page(
        self, namespace: str, type_: str, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[Address]:
        """Up to `limit` addresses of a function type that hold state, in id order: those whose
        id starts with `prefix` and, for the next page, comes after the id `after`."""

    # --- mailboxes ---
    @abc.abstractmethod
    def append(self, message: Message) -> None:
        """Queue a message at the end of its target's mailbox."""

    @abc.abstractmethod
    def head(self, address: Address, limit: int) -> list[Message]:
        """Up to `limit` messages from the front of a mailbox (limit <= 0: all)."""

    @abc.abstractmethod
    def drop_head(self, address: Address, count: int) -> list[Message]:
        """Remove and return the first `count` messages of a mailbox."""

    @abc.abstractmethod
    def backlog(self, address: Address) -> int:
        """How many messages wait in (or are in flight from) a mailbox."""

    @abc.abstractmethod
    def busy_addresses(self) -> Iterable[Address]:
        """Addresses with a non-empty mailbox (what to resume after a restart)."""

    # --- delayed messages ---
    @abc.abstractmethod
    def add_delayed(self, delayed: DelayedMessage) -> None:
        """Keep a delayed message until it fires or is cancelled."""

    @abc.abstractmethod
    def remove_delayed(self, delayed: DelayedMessage) -> None:
        """Forget a delayed message (fired or cancelled)."""

    @abc.abstractmethod
    def delayed_by_token(self, scope: str, token: str) -> DelayedMessage | None:
        """The pending delayed message with this token in this scope (the sender's id)."""

    @abc.abstractmethod
    def all_delayed(self) -> Iterator[DelayedMessage]:
        """Every pending delayed message."""

    # --- parked addresses and dead letters ---
    @abc.abstractmethod
    def park(self, address: Address, reason: str, since: float) -> None: ...

    @abc.abstractmethod
    def unpark(self, address: Address) -> None: ...

    @abc.abstractmethod
    def parked(self) -> dict[Address, Parked]: ...

    @abc.abstractmethod
    def add_dead_letter(self, letter: DeadLetter) -> None: ...

    @abc.abstractmethod
    def dead_letters(self) -> list[DeadLetter]: ...

    # --- egress outbox ---
    @abc.abstractmethod
    def publish(self, record: EgressRecord) -> None:
        """Put an egress record in the outbox of its egress and topic."""

    @abc.abstractmethod
    def take(self, egress: str, topic: str) -> EgressRecord | None:
        """Remove and return the oldest outbox record of an egress topic."""

    @abc.abstractmethod
    def outbox_size(self, egress: str, topic: str) -> int: ...

    @abc.abstractmethod
    def outbox_sizes(self) -> dict[tuple[str, str], int]:
        """Readable records not yet taken, by (egress, topic)."""

    @abc.abstractmethod
    def pending(self, egress: str, limit: int) -> list[EgressRecord]:
        """Up to `limit` readable records of an egress (every topic), oldest first, left in place.

        For publishers: they send these, then `acknowledge` them once the sink has them.
        """

    @abc.abstractmethod
    def acknowledge(self, records: Sequence[EgressRecord]) -> None:
        """Remove records a publisher's sink has acknowledged (taken from `pending`)."""

    # --- source positions: how far each partition of an external source has been ingested ---
    @abc.abstractmethod
    def set_position(self, source: str, partition: str, position: str) -> None:
        """Record the position to resume a source partition from (same epoch as its messages)."""

    @abc.abstractmethod
    def positions(self, source: str) -> dict[str, str]:
        """The stored position of each partition of a source (e.g. Kafka `topic/0` → next offset)."""

    # --- ingress idempotency keys ---
    @abc.abstractmethod
    def seen_ingress_key(self, key: str, not_before: float) -> bool:
        """Whether a message with this idempotency key was accepted at `not_before` or later."""

    @abc.abstractmethod
    def remember_ingress_key(self, key: str, at: float, not_before: float) -> None:
        """Record an accepted message's idempotency key (in the same epoch as the message),
        and forget keys accepted before `not_before` (their window is over)."""

    # --- durability ---
    async def start(self) -> None:  # noqa: B027 (optional hook: a no-op by default)
        """Begin background work (a durable store starts committing epochs)."""

    async def commit(self) -> None:  # noqa: B027 (optional hook: a no-op by default)
        """Make every change so far durable (a no-op for memory)."""

    async def durable(self) -> None:  # noqa: B027 (optional hook: a no-op by default)
        """Return once every change made so far is durable (at once for memory)."""

    def close(self) -> None:  # noqa: B027 (optional hook: a no-op by default)
        """Release files and locks."""


class MemoryStore(Store):
    """The in-memory store: fast, and gone when the process ends."""

    def __init__(self) -> None:
        self._states: dict[Address, dict[str, StoredValue]] = {}
        self._mailboxes: dict[Address, deque[Message]] = {}
        self._delayed: dict[int, DelayedMessage] = {}
        self._tokens: dict[tuple[str, str], DelayedMessage] = {}
        self._next_seq = 0
        self._parked: dict[Address, Parked] = {}
        self._dead_letters: list[DeadLetter] = []
        self._outbox: dict[tuple[str, str], deque[EgressRecord]] = {}
        # In the order accepted (an OrderedDict: dropping the oldest is O(1), unlike a dict's).
        self._ingress_keys: OrderedDict[str, float] = OrderedDict()
        self._next_outbox = 1
        self._positions: dict[str, dict[str, str]] = {}

    def states(self, address: Address) -> dict[str, StoredValue]:
        return self._states.get(address, _EMPTY)

    def put_state(self, address: Address, name: str, value: StoredValue | None) -> None:
        if value is None:
            values = self._states.get(address)
            if values is not None:
                values.pop(name, None)
                if not values:
                    del self._states[address]
        else:
            self._states.setdefault(address, {})[name] = value

    def addresses_with_state(self, namespace: str, type_: str) -> list[Address]:
        return sorted(
            a for a, values in self._states.items()
            if values and a.namespace == namespace and a.type == type_
        )

    def address_page(
        self, namespace: str, type_: str, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[Address]:
        ids = sorted(
            a.id for a, values in self._states.items()
            if values and a.namespace == namespace and a.type == type_ and a.id.startswith(prefix)
            and (after is None or a.id > after)
        )
        return [Address(namespace, type_, i) for i in ids[:limit]]

    def append(self, message: Message) -> None:
        box = self._mailboxes.get(message.target)
        if box is None:
            box = self._mailboxes[message.target] = deque()
        box.append(message)

    def head(self, address: Address, limit: int) -> list[Message]:
        box = self._mailboxes.get(address)
        if not box:
            return []
        if limit <= 0 or limit >= len(box):
            return list(box)
        return [box[i] for i in range(limit)]

    def drop_head(self, address: Address, count: int) -> list[Message]:
        box = self._mailboxes.get(address)
        if not box:
            return []
        dropped = [box.popleft() for _ in range(min(count, len(box)))]
        if not box:
            del self._mailboxes[address]
        return dropped

    def backlog(self, address: Address) -> int:
        box = self._mailboxes.get(address)
        return len(box) if box else 0

    def busy_addresses(self) -> Iterable[Address]:
        return list(self._mailboxes)

    def add_delayed(self, delayed: DelayedMessage) -> None:
        self._next_seq += 1
        delayed.seq = self._next_seq
        self._delayed[delayed.seq] = delayed
        if delayed.token:
            self._tokens[(delayed.scope, delayed.token)] = delayed

    def remove_delayed(self, delayed: DelayedMessage) -> None:
        self._delayed.pop(delayed.seq, None)
        if delayed.token:
            key = (delayed.scope, delayed.token)
            if self._tokens.get(key) is delayed:
                del self._tokens[key]

    def delayed_by_token(self, scope: str, token: str) -> DelayedMessage | None:
        return self._tokens.get((scope, token))

    def all_delayed(self) -> Iterator[DelayedMessage]:
        return iter(list(self._delayed.values()))

    def park(self, address: Address, reason: str, since: float) -> None:
        self._parked[address] = Parked(reason, since)

    def unpark(self, address: Address) -> None:
        self._parked.pop(address, None)

    def parked(self) -> dict[Address, Parked]:
        return self._parked

    def add_dead_letter(self, letter: DeadLetter) -> None:
        self._dead_letters.append(letter)

    def dead_letters(self) -> list[DeadLetter]:
        return self._dead_letters

    def publish(self, record: EgressRecord) -> None:
        if not record.seq:  # a durable store numbers records before they are released
            record.seq = self._next_outbox
            self._next_outbox += 1
        key = (record.egress, record.topic)
        box = self._outbox.get(key)
        if box is None:
            box = self._outbox[key] = deque()
        box.append(record)
        if self.on_released is not None:
            self.on_released(record)

    def take(self, egress: str, topic: str) -> EgressRecord | None:
        box = self._outbox.get((egress, topic))
        return box.popleft() if box else None

    def outbox_size(self, egress: str, topic: str) -> int:
        box = self._outbox.get((egress, topic))
        return len(box) if box else 0

    def outbox_sizes(self) -> dict[tuple[str, str], int]:
        return {key: len(box) for key, box in self._outbox.items()}

    def pending(self, egress: str, limit: int) -> list[EgressRecord]:
        boxes = [box for (name, _), box in self._outbox.items() if name == egress and box]
        if len(boxes) == 1:
            return list(itertools.islice(boxes[0], limit))
        merged = heapq.merge(*boxes, key=_by_seq)
        return list(itertools.islice(merged, limit))

    def acknowledge(self, records: Sequence[EgressRecord]) -> None:
        for record in records:
            box = self._outbox.get((record.egress, record.topic))
            if not box:
                continue
            if box[0].seq == record.seq:  # the usual case: `pending` hands out each topic's head
                box.popleft()
            else:
                try:
                    box.remove(record)
                except ValueError:
                    pass

    def set_position(self, source: str, partition: str, position: str) -> None:
        self._positions.setdefault(source, {})[partition] = position

    def positions(self, source: str) -> dict[str, str]:
        return dict(self._positions.get(source, {}))

    def seen_ingress_key(self, key: str, not_before: float) -> bool:
        at = self._ingress_keys.get(key)
        return at is not None and at >= not_before

    def remember_ingress_key(self, key: str, at: float, not_before: float) -> None:
        self._ingress_keys[key] = at
        self._ingress_keys.move_to_end(key)
        self._forget_keys_before(not_before)

    def _forget_keys_before(self, not_before: float, keep: int | None = None) -> None:
        """Drop keys from the oldest while older than `not_before` (or more than `keep`)."""
        keys = self._ingress_keys
        while keys:
            at = next(iter(keys.values()))
            if at >= not_before and (keep is None or len(keys) <= keep):
                break
            keys.popitem(last=False)


_EMPTY: dict[str, StoredValue] = {}


def _by_seq(record: EgressRecord) -> int:
    return record.seq
