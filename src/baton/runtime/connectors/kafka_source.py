"""The Kafka ingress (`io.statefun.kafka.v1/ingress`): partitions → messages, offsets in the epoch.

Partitions are `assign()`ed with explicit offsets (no consumer-group rebalancing: one baton owns
its ingress). The next offset of every partition is a source position, stored in the same epoch
as the messages of the record before it; a restart resumes from there (a stored position wins
over `startupPosition`), so each record takes effect exactly once. After each durable epoch the
offsets are also committed to the consumer group, so lag tools work. While the runtime is
saturated, the partitions are paused and librdkafka's prefetch is kept small, so memory stays
bounded instead of buffering.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaException,
    TopicPartition,
)
from confluent_kafka import Message as KafkaMessage

from baton.module.specs import InvalidRecordHandling, KafkaIngressSpec, KafkaTopicRoute
from baton.runtime.api import ConnectorError
from baton.runtime.background import stop_tasks
from baton.runtime.connectors.source import SourceRuntime, route, unroutable
from baton.runtime.messages import SourcePosition
from baton.runtime.rules import RuleRejected

log = logging.getLogger(__name__)

# librdkafka prefetches up to 64 MB per consumer by default; keep about 1 MB so a paused
# ingress holds little (a user's `properties` may say otherwise).
_BOUNDED_PREFETCH = {"queued.max.messages.kbytes": "1024", "queued.min.messages": "1000"}
_BATCH = 500
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


def consumer_config(spec: KafkaIngressSpec) -> dict[str, str]:
    """The client settings: `properties`, then the named fields (they win, as in StateFun)."""
    return {
        **_BOUNDED_PREFETCH,
        **spec.properties,
        "bootstrap.servers": spec.address,
        "group.id": spec.consumer_group_id,
        "auto.offset.reset": spec.auto_offset_reset_position,
        "enable.auto.commit": "false",  # offsets are committed after their epoch is durable
        "enable.auto.offset.store": "false",
    }


class KafkaSource:
    """Consumes one Kafka ingress into the runtime."""

    def __init__(self, spec: KafkaIngressSpec, runtime: SourceRuntime) -> None:
        self.spec = spec
        self.source = str(spec.id)
        self._runtime = runtime
        self._routes = {t.topic: t for t in spec.topics}
        try:
            self._consumer = Consumer(consumer_config(spec), logger=log)
        except KafkaException as error:
            raise ConnectorError(
                f"Kafka ingress {spec.id}: {error.args[0].str()}; `properties` go to librdkafka "
                "(see its CONFIGURATION.md for the names it knows)"
            ) from None
        # consume() runs on a worker thread; close() must not run while it does.
        self._client = threading.Lock()
        self._assigned: list[TopicPartition] = []
        self.stopped: dict[str, str] = {}  # partition → why it stopped (invalidRecordHandling: fail)
        self._task: asyncio.Task[None] | None = None
        self._committer: asyncio.Task[None] | None = None
        self.paused = 0  # how often the ingress paused for backpressure (metrics, tests)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"baton-kafka-{self.source}")

    async def stop(self) -> None:
        await stop_tasks(self._task, self._committer, ignore_failures=True)
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._client:
            self._consumer.close()

    def _consume(self) -> list[KafkaMessage]:
        with self._client:
            return self._consumer.consume(_BATCH, 0.2)

    # --- where to start ------------------------------------------------------------------

    def _starting_offsets(self) -> list[TopicPartition]:
        """Every partition of the routed topics, at its stored position or its startup position."""
        stored = self._runtime.positions(self.source)
        partitions: list[TopicPartition] = []
        for topic in self._routes:
            metadata = self._consumer.list_topics(topic, timeout=10).topics[topic]
            if metadata.error is not None:
                raise KafkaException(metadata.error)
            partitions.extend(TopicPartition(topic, p) for p in sorted(metadata.partitions))
        resolved = []
        for tp in partitions:
            key = f"{tp.topic}/{tp.partition}"
            if key in stored:
                tp.offset = int(stored[key])
            else:
                tp.offset = self._startup_offset(tp, key)
            resolved.append(tp)
        return resolved

    def _startup_offset(self, tp: TopicPartition, key: str) -> int:
        spec = self.spec
        kind = spec.startup_position
        if kind == "earliest":
            return self._concrete(tp, OFFSET_BEGINNING)
        if kind == "latest":
            return self._concrete(tp, OFFSET_END)
        if kind == "specific-offsets" and key in spec.startup_specific_offsets:
            return spec.startup_specific_offsets[key]
        if kind == "date" and spec.startup_date is not None:
            when = datetime.strptime(spec.startup_date, "%Y-%m-%d %H:%M:%S.%f %z")
            found = self._consumer.offsets_for_times(
                [TopicPartition(tp.topic, tp.partition, int(when.timestamp() * 1000))], timeout=10
            )[0]
            return found.offset if found.offset >= 0 else self._concrete(tp, OFFSET_END)
        # group-offsets (and a partition specific-offsets does not name): the group's, else reset
        committed = self._consumer.committed([TopicPartition(tp.topic, tp.partition)], timeout=10)[0]
        if committed.offset >= 0:
            return committed.offset
        reset = OFFSET_BEGINNING if spec.auto_offset_reset_position == "earliest" else OFFSET_END
        return self._concrete(tp, reset)

    def _concrete(self, tp: TopicPartition, logical: int) -> int:
        """A real offset for earliest/latest, so a restart before any record starts there too."""
        low, high = self._consumer.get_watermark_offsets(
            TopicPartition(tp.topic, tp.partition), timeout=10
        )
        return low if logical == OFFSET_BEGINNING else high

    # --- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:  # the broker may be away at start: retry until the partitions are known
            try:
                self._assigned = await asyncio.to_thread(self._starting_offsets)
                break
            except KafkaException as error:
                log.warning("Kafka ingress %s: cannot read partitions (%s); retrying", self.source, error)
                await asyncio.sleep(1.0)
        for tp in self._assigned:  # store the starting point: `latest` must not move on restart
            await self._runtime.ingest_record(
                (), SourcePosition(self.source, f"{tp.topic}/{tp.partition}", str(tp.offset))
            )
        self._consumer.assign(self._assigned)
        while True:
            batch = await asyncio.to_thread(self._consume)
            for record in batch:
                await self._take(record)
            if batch:
                self._commit_when_durable()

    async def _take(self, record: KafkaMessage) -> None:
        if record.error() is not None:
            log.warning("Kafka ingress %s: %s", self.source, record.error())
            return
        topic, partition, offset = str(record.topic()), record.partition() or 0, record.offset() or 0
        part = f"{topic}/{partition}"
        if part in self.stopped:
            return  # fetched before it stopped; read again after a restart
        routing = self._routes[topic]
        position = SourcePosition(self.source, part, str(offset + 1))
        id_, why = _id_of(record.key())
        if why:
            await self._invalid(routing, position, f"{why}; StateFun routes by key (it becomes the id)",
                                record, topic, partition, offset)
            return
        messages = route(id_, str(routing.value_type), record.value(), routing.targets)
        paused = self.paused
        try:
            await self._runtime.ingest_record(messages, position, topic, on_wait=self._pause)
        except RuleRejected as rejected:  # a data-quality rule with onFailure ERROR
            await self._invalid(routing, position, str(rejected), record, topic, partition, offset)
        finally:
            if self.paused != paused:
                self._consumer.resume(
                    [tp for tp in self._assigned if f"{tp.topic}/{tp.partition}" not in self.stopped]
                )

    def _pause(self) -> None:
        """The runtime is full: stop fetching rather than buffering."""
        self._consumer.pause(self._assigned)
        self.paused += 1

    async def _invalid(
        self, routing: KafkaTopicRoute, position: SourcePosition, reason: str,
        record: KafkaMessage, topic: str, partition: int, offset: int,
    ) -> None:
        handling = routing.invalid_records or self.spec.invalid_records or InvalidRecordHandling()
        where = (
            f"Kafka ingress {self.source}, topic {topic} partition {partition} offset {offset}"
        )
        if handling.type == "fail":
            self.stopped[position.partition] = f"{where}: {reason}"
            self._consumer.pause([TopicPartition(topic, partition)])
            log.error(
                "%s: %s; this partition stops (invalidRecordHandling: fail) until baton restarts "
                "with the record fixed or the handling changed; other partitions go on",
                where, reason,
            )
            return
        log.log(_LEVELS[handling.log_level], "%s: %s; %s", where, reason,
                "skipped" if handling.type == "skip" else "moved to the dead letters")
        if handling.type == "skip":
            await self._runtime.ingest_record((), position)
            return
        self._runtime.reject_record(position, unroutable(
            position, where, reason, routing.targets[0], None, str(routing.value_type),
            record.value(), self._runtime.clock.now(),
        ))

    # --- offsets to the group ------------------------------------------------------------

    def _commit_when_durable(self) -> None:
        """Once what was ingested so far is durable, commit its offsets to the group (for lag tools)."""
        if self._committer is not None and not self._committer.done():
            return  # the running one will be followed by the next batch's
        self._committer = asyncio.create_task(self._commit_group())

    async def _commit_group(self) -> None:
        committed: dict[str, str] = {}
        while (offsets := self._runtime.positions(self.source)) != committed:
            await self._runtime.durable()  # these offsets' records are in the store now
            try:
                self._consumer.commit(offsets=_topic_partitions(offsets), asynchronous=True)
            except KafkaException as error:  # only lag reporting suffers; positions are in the store
                log.debug("Kafka ingress %s: group commit failed: %s", self.source, error)
            committed = offsets


def _id_of(key: bytes | None) -> tuple[str, str]:
    """The address id a key gives, or why it gives none."""
    if not key:
        return "", "the record has no key" if key is None else "the record's key is empty"
    try:
        return key.decode(), ""
    except UnicodeDecodeError:
        return "", "the record's key is not UTF-8 text"


def _topic_partitions(offsets: dict[str, str]) -> list[TopicPartition]:
    result = []
    for key, offset in offsets.items():
        topic, _, partition = key.rpartition("/")
        result.append(TopicPartition(topic, int(partition), int(offset)))
    return result
