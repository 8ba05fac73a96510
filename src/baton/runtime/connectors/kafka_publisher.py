"""The Kafka egress (`io.statefun.kafka.v1/egress`): committed outbox records → Kafka.

`deliverySemantic`:
- `none`: records are handed to the producer and leave the outbox at once (lost if the broker
  never takes them);
- `at-least-once` (StateFun's default): idempotent producer; records leave the outbox once the
  broker acknowledged every one, so a crash or an absent broker loses nothing (a crash may send
  some again);
- `exactly-once`: a transactional producer whose `transactional.id` is stable across restarts
  (`baton-<egress id>` unless `properties` set one). Each batch is one Kafka transaction holding
  the records *and* a progress record — the batch's highest outbox seq, key = the transactional
  id — on the topic `baton-egress-progress`. On start, `init_transactions()` aborts whatever a
  crashed baton left open, and the progress topic, read `read_committed`, says which outbox seq
  Kafka already holds; the drain skips records up to it. So a record is in exactly one committed
  transaction, whenever baton dies.

Every record carries the header `baton-outbox-seq` (its outbox seq), for tracing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from statefun.kafka_egress_pb2 import KafkaProducerRecord

from baton.module.specs import KafkaEgressSpec
from baton.runtime.api import ConnectorError
from baton.runtime.connectors.publisher import Publisher
from baton.runtime.messages import EgressRecord

log = logging.getLogger(__name__)

PROGRESS_TOPIC = "baton-egress-progress"
SEQ_HEADER = "baton-outbox-seq"
_TIMEOUT_S = 30.0


def producer_config(spec: KafkaEgressSpec) -> dict[str, str]:
    config = {**spec.properties, "bootstrap.servers": spec.address}
    if spec.delivery_semantic == "at-least-once":
        config["enable.idempotence"] = "true"
    elif spec.delivery_semantic == "exactly-once":
        config.setdefault("transactional.id", f"baton-{spec.id}")
        # A transaction's records go out when it commits (commit flushes at once): fewer, larger
        # requests, and the shortest time in which a crash leaves records of an open transaction.
        config.setdefault("linger.ms", "1000")
        if spec.transaction_timeout is not None:
            config["transaction.timeout.ms"] = str(int(spec.transaction_timeout.total_seconds() * 1000))
    return config


class KafkaPublisher(Publisher):
    def __init__(self, spec: KafkaEgressSpec) -> None:
        self.spec = spec
        self.egress = str(spec.id)
        self._config = producer_config(spec)
        try:  # refuse settings librdkafka does not know now, at start, not on first send
            Producer(self._config, logger=log)
        except KafkaException as error:
            raise ConnectorError(
                f"Kafka egress {spec.id}: {error.args[0].str()}; `properties` go to librdkafka "
                "(see its CONFIGURATION.md for the names it knows)"
            ) from None
        self._transactional = spec.delivery_semantic == "exactly-once"
        self._producer: Producer | None = None
        self._held = 0  # exactly-once: the highest outbox seq in a committed transaction
        self._suspect = False  # exactly-once: a send failed; ask Kafka again what it holds

    async def start(self) -> int:
        if self._transactional:
            await asyncio.to_thread(self._recover)
        else:
            self._producer = Producer(self._config, logger=log)  # settings checked in __init__
        return self._held

    def _recover(self) -> None:
        """A new producer: fence any older one, abort its open transaction, read what Kafka holds.

        After a failed transaction too: librdkafka cannot always go on with the old producer
        (e.g. once fenced), and the commit may have happened after all.
        """
        self._producer = Producer(self._config, logger=log)
        self._producer.init_transactions(_TIMEOUT_S)
        self._ensure_progress_topic()
        self._held = max(self._held, self._read_progress())
        self._suspect = False

    def _ensure_progress_topic(self) -> None:
        admin = AdminClient({"bootstrap.servers": self.spec.address}, logger=log)
        future = admin.create_topics([NewTopic(PROGRESS_TOPIC, 1, 1)])[PROGRESS_TOPIC]
        try:
            future.result(_TIMEOUT_S)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    def _read_progress(self) -> int:
        """The highest outbox seq this transactional id committed (0: none)."""
        txn_id = self._config["transactional.id"]
        consumer = Consumer({
            "bootstrap.servers": self.spec.address, "group.id": f"{txn_id}-progress",
            "enable.auto.commit": "false", "isolation.level": "read_committed",
        }, logger=log)
        try:
            tp = TopicPartition(PROGRESS_TOPIC, 0)
            _, end = consumer.get_watermark_offsets(tp, timeout=_TIMEOUT_S)
            consumer.assign([TopicPartition(PROGRESS_TOPIC, 0, OFFSET_BEGINNING)])
            held, position = 0, 0
            while position < end:
                records = consumer.consume(1000, 1.0)
                for record in records:
                    if record.error() is not None:
                        continue
                    position = (record.offset() or 0) + 1
                    if record.key() == txn_id.encode():
                        held = max(held, int(record.value() or b"0"))
                if not records:  # only aborted or control records left below the end
                    position = max(position, consumer.position([tp])[0].offset)
            return held
        finally:
            consumer.close()

    async def send(self, records: list[EgressRecord]) -> None:
        if self._transactional:
            if self._suspect:
                await asyncio.to_thread(self._recover)
            records = [r for r in records if r.seq > self._held]
            if records:
                await asyncio.to_thread(self._send_transaction, records)
        else:
            await asyncio.to_thread(self._send, records)

    @staticmethod
    def _produce(producer: Producer, record: EgressRecord, on_delivery: Any = None) -> None:
        parsed = KafkaProducerRecord.FromString(record.value or b"")
        while True:
            try:
                producer.produce(
                    parsed.topic, value=parsed.value_bytes, key=parsed.key.encode() if parsed.key else None,
                    headers=[(SEQ_HEADER, str(record.seq).encode())], on_delivery=on_delivery,
                )
                return
            except BufferError:  # the producer's queue is full: let it drain
                producer.poll(0.05)

    def _send(self, records: list[EgressRecord]) -> None:
        producer = self._producer
        assert producer is not None
        if self.spec.delivery_semantic == "none":
            for record in records:
                self._produce(producer, record)
            producer.poll(0)
            return
        errors: list[KafkaError] = []

        def delivered(error: KafkaError | None, _message: object) -> None:
            if error is not None:
                errors.append(error)

        for record in records:
            self._produce(producer, record, delivered)
        remaining = producer.flush(_TIMEOUT_S)
        if errors or remaining:
            raise KafkaException(errors[0] if errors else f"{remaining} records not acknowledged in time")

    def _send_transaction(self, records: list[EgressRecord]) -> None:
        assert self._producer is not None
        producer = self._producer
        try:
            producer.begin_transaction()
            for record in records:
                self._produce(producer, record)
            top = records[-1].seq
            txn_id = self._config["transactional.id"].encode()
            producer.produce(PROGRESS_TOPIC, key=txn_id, value=str(top).encode())
            producer.commit_transaction(_TIMEOUT_S)
            self._held = top
        except KafkaException:
            self._suspect = True  # the commit may have happened: read the progress before retrying
            try:
                producer.abort_transaction(_TIMEOUT_S)
            except KafkaException:
                pass
            raise

    async def close(self) -> None:
        producer, self._producer = self._producer, None  # librdkafka closes it when it is freed
        if producer is not None and not self._transactional:
            await asyncio.to_thread(producer.flush, 5.0)
