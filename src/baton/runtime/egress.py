"""Egress: check each record against its declared egress, then put it in the outbox.

Records leave the outbox through readers (the playground egress's `GET /<topic>`, `baton egress`)
or publishers (Kafka, Kinesis); a record is removed only once it has been taken.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence

from google.protobuf.message import DecodeError
from statefun.kafka_egress_pb2 import KafkaProducerRecord
from statefun.kinesis_egress_pb2 import KinesisEgressRecord

from baton.module.kinds import (
    KAFKA_PRODUCER_RECORD_TYPE,
    KINESIS_EGRESS_RECORD_TYPE,
    PLAYGROUND_EGRESS_RECORD_TYPE,
)
from baton.module.specs import (
    EgressSpec,
    KafkaEgressSpec,
    KinesisEgressSpec,
    ModuleSpec,
    PlaygroundEgressSpec,
)
from baton.runtime.messages import EgressRecord
from baton.runtime.store import Store


class EgressRejected(Exception):
    """A function sent a record that its egress cannot take."""


class EgressRouter:
    """Validates records for the module's egresses and keeps them in the store's outbox."""

    def __init__(self, module: ModuleSpec, store: Store) -> None:
        self._egresses: dict[str, EgressSpec] = {str(e.id): e for e in module.egresses}
        self._store = store
        self._arrivals: dict[tuple[str, str], asyncio.Event] = {}
        self._released: dict[str, asyncio.Event] = {}  # per egress, for its publisher
        store.on_released = self._wake_readers

    @property
    def egresses(self) -> dict[str, EgressSpec]:
        return self._egresses

    def check(self, egress: str, typename: str, value: bytes | None) -> EgressRecord:
        """Turn a function's egress message into a record, or raise EgressRejected."""
        spec = self._egresses.get(egress)
        if spec is None:
            declared = ", ".join(sorted(self._egresses)) or "none"
            raise EgressRejected(
                f"sent to undeclared egress {egress!r} (declared: {declared}); "
                "declare it in module.yaml"
            )
        data = value or b""
        if isinstance(spec, PlaygroundEgressSpec):
            return EgressRecord(egress, typename, value, _playground_topic(spec, typename, data))
        if isinstance(spec, KafkaEgressSpec):
            record = _parse(KafkaProducerRecord, KAFKA_PRODUCER_RECORD_TYPE, egress, typename, data)
            return EgressRecord(egress, typename, value, record.topic)
        if isinstance(spec, KinesisEgressSpec):
            record = _parse(KinesisEgressRecord, KINESIS_EGRESS_RECORD_TYPE, egress, typename, data)
            _check_kinesis(egress, record)
            return EgressRecord(egress, typename, value, record.stream)
        raise EgressRejected(f"egress {egress!r} of kind {spec.kind} cannot take records")

    def publish(self, record: EgressRecord) -> None:
        """Put a checked record in the outbox (readable once the store releases it)."""
        self._store.publish(record)

    def _wake_readers(self, record: EgressRecord) -> None:
        event = self._arrivals.get((record.egress, record.topic))
        if event is not None:
            event.set()
        event = self._released.get(record.egress)
        if event is not None:
            event.set()

    # --- for publishers: records stay in the outbox until the sink acknowledged them --------

    def pending(self, egress: str, limit: int) -> list[EgressRecord]:
        """Up to `limit` committed records of an egress, oldest first (not removed)."""
        return self._store.pending(egress, limit)

    def acknowledge(self, records: Sequence[EgressRecord]) -> None:
        """Remove records the sink has acknowledged."""
        self._store.acknowledge(records)

    async def wait_pending(self, egress: str) -> None:
        """Return once the egress has a committed record (at once if it has one)."""
        event = self._released.setdefault(egress, asyncio.Event())
        while not self._store.pending(egress, 1):
            event.clear()
            await event.wait()

    def take(self, egress: str, topic: str) -> EgressRecord | None:
        return self._store.take(egress, topic)

    async def take_waiting(
        self, egress: str, topic: str, timeout: float,  # noqa: ASYNC109 (a long-poll's own wait)
        still_wanted: Callable[[], bool] = lambda: True,
    ) -> EgressRecord | None:
        """Take a record, waiting up to `timeout` seconds for one to arrive.

        `still_wanted()` is asked before taking: a reader that went away must not take a
        record nobody will receive.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not still_wanted():
                return None
            record = self._store.take(egress, topic)
            remaining = deadline - loop.time()
            if record is not None or remaining <= 0:
                return record
            event = self._arrivals.setdefault((egress, topic), asyncio.Event())
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass


def _playground_topic(spec: PlaygroundEgressSpec, typename: str, data: bytes) -> str:
    if typename != PLAYGROUND_EGRESS_RECORD_TYPE:
        raise EgressRejected(
            f"the playground egress takes only {PLAYGROUND_EGRESS_RECORD_TYPE!r} records, "
            f"got {typename!r}"
        )
    try:
        body = json.loads(data)
        topic, payload = body["topic"], body["payload"]
    except (ValueError, KeyError, TypeError) as error:
        raise EgressRejected(
            f'a playground egress record must be JSON {{"topic": ..., "payload": ...}}: {error}'
        ) from None
    if not isinstance(topic, str) or not isinstance(payload, str):
        raise EgressRejected("a playground egress record's topic and payload must be strings")
    if topic not in spec.topics:
        raise EgressRejected(
            f"topic {topic!r} is not declared for the playground egress "
            f"(declared: {', '.join(spec.topics)})"
        )
    return topic


def _check_kinesis(egress: str, record: KinesisEgressRecord) -> None:
    """Refuse what Kinesis would refuse forever, so it cannot block the egress after commit."""
    if not record.stream:
        raise EgressRejected(f"a Kinesis record for egress {egress!r} names no stream")
    if not 1 <= len(record.partition_key) <= 256:
        raise EgressRejected(
            f"a Kinesis record for egress {egress!r} needs a partition key of 1 to 256 characters, "
            f"got {len(record.partition_key)}"
        )
    if len(record.value_bytes) + len(record.partition_key.encode()) > 1024 * 1024:
        raise EgressRejected(
            f"a Kinesis record for egress {egress!r} is larger than 1 MiB (data plus partition key)"
        )
    hash_key = record.explicit_hash_key
    if hash_key and not (hash_key.isdigit() and int(hash_key) < 2**128):
        raise EgressRejected(
            f"a Kinesis record for egress {egress!r} has explicit hash key {hash_key!r}; it must be "
            "a decimal number below 2^128"
        )


def _parse(cls, expected: str, egress: str, typename: str, data: bytes):
    if typename != expected:
        raise EgressRejected(f"egress {egress!r} expects only {expected!r} records, got {typename!r}")
    try:
        return cls.FromString(data)
    except DecodeError as error:
        raise EgressRejected(f"malformed {cls.__name__} for egress {egress!r}: {error}") from None


def playground_payload(record: EgressRecord) -> bytes:
    """The payload string a playground reader gets for a record (UTF-8)."""
    return json.loads(record.value or b"{}")["payload"].encode()
