"""The Kinesis ingress (`io.statefun.kinesis.v1/ingress`): shards → messages, sequence numbers in the epoch.

Every shard of the listed streams is read by one reader (GetShardIterator + GetRecords through
boto3, in worker threads). A record's partition key becomes the id, its data the message with
`typename = valueType`, sent to every target in order (§3.9). The record's sequence number is the
shard's source position, stored in the same epoch as its messages: a restart resumes
`AFTER_SEQUENCE_NUMBER` from there (a stored position wins over `startupPosition`), so each
record takes effect exactly once.

Positions are strings: a sequence number, `earliest` (TRIM_HORIZON) or `at:<epoch seconds>`
(AT_TIMESTAMP). At the first start a shard's starting point is stored at once (`latest` as the
moment baton started), so a restart before any record arrives does not move it.

Resharding: shards are listed again every `discovery_interval_s` (and whenever a shard ends). A
new shard is read from its start, and only once its parents are read to their end, so the
records of one partition key stay in order across a split or merge.

Backpressure: a reader waits in `ingest_record` while the runtime is saturated, and does not call
GetRecords meanwhile; at most one GetRecords response per shard is held.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baton.module.specs import KinesisIngressSpec, KinesisStreamRoute
from baton.runtime.background import stop_tasks
from baton.runtime.connectors.kinesis_aggregation import UndecodableAggregate, user_records
from baton.runtime.connectors.kinesis_client import THROTTLING, error_code, kinesis_client
from baton.runtime.connectors.source import SourceRuntime, route, unroutable
from baton.runtime.messages import SourcePosition
from baton.runtime.rules import RuleRejected

log = logging.getLogger(__name__)

EARLIEST = "earliest"
AT = "at:"
_LIMIT = 1_000  # records per GetRecords: the most a shard's reader holds while the runtime is busy
_POLL_S = 0.2  # between GetRecords calls of a shard (AWS allows 5 per second per shard)
_BACKOFF_S = (0.2, 5.0)
_NO_KEY = "the record has no partition key; StateFun routes by partition key (it becomes the id)"


@dataclass(frozen=True, slots=True)
class Shard:
    stream: str
    id: str
    parents: tuple[str, ...]  # partition keys (`stream/shardId`) of its parent shards
    ending: str | None  # EndingSequenceNumber once the shard is closed (split or merged)
    hash_range: tuple[int, int] | None = None  # its hash keys, first and last

    @property
    def partition(self) -> str:
        return f"{self.stream}/{self.id}"


def _sequence(position: str) -> int:
    return int(position) if position.isdigit() else 0


class KinesisSource:
    """Consumes one Kinesis ingress into the runtime."""

    discovery_interval_s = 10.0  # Flink's Kinesis consumer's default shard discovery interval

    def __init__(self, spec: KinesisIngressSpec, runtime: SourceRuntime) -> None:
        self.spec = spec
        self.source = str(spec.id)
        self._runtime = runtime
        self._routes: dict[str, KinesisStreamRoute] = {s.stream: s for s in spec.streams}
        self._client = kinesis_client(
            f"Kinesis ingress {spec.id}", spec.aws_region, spec.aws_credentials,
            spec.client_config_properties, pool=max(10, 4 * len(spec.streams)),
        )
        self._shards: dict[str, Shard] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._finished: set[str] = set()
        self._rediscover = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.paused = 0  # how often a reader waited for the runtime (metrics, tests)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._discover(), name=f"baton-kinesis-{self.source}")

    async def stop(self) -> None:
        await stop_tasks(self._task, *self._readers.values(), ignore_failures=True)

    # --- shards ---------------------------------------------------------------------------

    async def _discover(self) -> None:
        first = True
        while True:
            try:
                listed = await asyncio.to_thread(self._list_shards)
            except Exception as error:  # Kinesis away or the stream missing: say so, retry
                log.warning("Kinesis ingress %s: cannot list shards (%s); retrying", self.source, error)
                await asyncio.sleep(1.0 if first else self.discovery_interval_s)
                continue
            self._store_starting_points(listed, first)
            self._shards.update(listed)
            first = False
            for shard in listed.values():
                if shard.partition not in self._readers and self._parents_done(shard):
                    self._readers[shard.partition] = asyncio.create_task(
                        self._read(shard), name=f"baton-kinesis-{shard.partition}"
                    )
            self._rediscover.clear()
            try:
                await asyncio.wait_for(self._rediscover.wait(), self.discovery_interval_s)
            except TimeoutError:
                pass

    def _list_shards(self) -> dict[str, Shard]:
        shards: dict[str, Shard] = {}
        for stream in self._routes:
            arguments: dict[str, Any] = {"StreamName": stream}
            while True:
                page = self._client.list_shards(**arguments)
                for listed in page["Shards"]:
                    parents = tuple(
                        f"{stream}/{listed[k]}" for k in ("ParentShardId", "AdjacentParentShardId")
                        if listed.get(k)
                    )
                    ending = listed["SequenceNumberRange"].get("EndingSequenceNumber")
                    hashes = listed.get("HashKeyRange", {})
                    hash_range = ((int(hashes["StartingHashKey"]), int(hashes["EndingHashKey"]))
                                  if hashes else None)
                    shard = Shard(stream, listed["ShardId"], parents, ending, hash_range)
                    shards[shard.partition] = shard
                if not page.get("NextToken"):
                    break
                arguments = {"NextToken": page["NextToken"]}
        return shards

    def _store_starting_points(self, listed: dict[str, Shard], first: bool) -> None:
        """Store where each shard not read before starts, before reading it.

        At the first listing, `startupPosition` decides, unless the stream has stored positions:
        then it was read before, and its other shards were created since (resharding). Those,
        and shards found later, start at their beginning.
        """
        stored = self._runtime.positions(self.source)
        read_before = {partition.rpartition("/")[0] for partition in stored}  # stream names have no "/"
        start = self._startup_position() if first else EARLIEST
        for shard in listed.values():
            if shard.partition not in stored:
                position = EARLIEST if shard.stream in read_before else start
                self._runtime.reject_record(SourcePosition(self.source, shard.partition, position), None)

    def _startup_position(self) -> str:
        if self.spec.startup_position == "earliest":
            return EARLIEST
        if self.spec.startup_position == "date" and self.spec.startup_date is not None:
            when = datetime.strptime(self.spec.startup_date, "%Y-%m-%d %H:%M:%S.%f %z")
            return f"{AT}{when.timestamp()}"
        return f"{AT}{time.time()}"  # latest: what arrives from now on

    def _parents_done(self, shard: Shard) -> bool:
        """Parents that are still listed must be read to their end first (per-key order)."""
        return all(p in self._finished or p not in self._shards for p in shard.parents)

    # --- one shard ------------------------------------------------------------------------

    def _iterator(self, shard: Shard, position: str) -> str | None:
        arguments: dict[str, Any] = {"StreamName": shard.stream, "ShardId": shard.id}
        if position.isdigit():
            arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=position)
        elif position.startswith(AT):
            arguments.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=float(position[len(AT):]))
        else:
            arguments.update(ShardIteratorType="TRIM_HORIZON")
        iterator: str | None = self._client.get_shard_iterator(**arguments).get("ShardIterator")
        return iterator

    async def _read(self, shard: Shard) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        position = self._runtime.positions(self.source).get(shard.partition, EARLIEST)
        iterator: str | None = None
        backoff = _BACKOFF_S[0]
        while True:
            try:
                if iterator is None:
                    iterator = await asyncio.to_thread(self._iterator, shard, position)
                    if iterator is None:
                        break
                response = await asyncio.to_thread(
                    self._client.get_records, ShardIterator=iterator, Limit=_LIMIT
                )
            except (ClientError, BotoCoreError) as error:
                code = error_code(error)
                if code == "ResourceNotFoundException":  # past retention, or the stream was deleted
                    log.warning("Kinesis ingress %s: shard %s is gone (%s)",
                                self.source, shard.partition, error)
                    break
                if code != "ExpiredIteratorException" and code not in THROTTLING:
                    log.warning("Kinesis ingress %s: reading %s failed (%s); retrying",
                                self.source, shard.partition, error)
                iterator = None  # ask again from the last position read
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_S[1])
                continue
            backoff = _BACKOFF_S[0]
            records = response.get("Records", [])
            for record in records:
                await self._take(shard, record)
                position = record["SequenceNumber"]
            iterator = response.get("NextShardIterator")
            current = self._shards.get(shard.partition, shard)
            closed_and_read = (
                current.ending is not None and not records and _sequence(position) >= int(current.ending)
            )
            if iterator is None or closed_and_read:
                break
            await asyncio.sleep(_POLL_S)
        log.info("Kinesis ingress %s: shard %s read to its end", self.source, shard.partition)
        self._finished.add(shard.partition)
        self._rediscover.set()  # its children may start now

    async def _take(self, shard: Shard, record: dict[str, Any]) -> None:
        """One Kinesis record (maybe a KPL aggregate of many): its messages and position, one epoch."""
        routing = self._routes[shard.stream]
        sequence = str(record["SequenceNumber"])
        position = SourcePosition(self.source, shard.partition, sequence)
        data: bytes = record.get("Data", b"")
        where = (f"Kinesis ingress {self.source}, stream {shard.stream} shard {shard.id} "
                 f"sequence number {sequence}")
        try:
            users = user_records(record.get("PartitionKey") or "", data, shard.hash_range)
        except UndecodableAggregate as error:
            self._dead_letter(position, where, str(error), routing, data)
            return
        typename = str(routing.value_type)
        messages = [m for u in users if u.partition_key
                    for m in route(u.partition_key, typename, u.data, routing.targets)]
        if messages:
            try:  # while it waits, this shard is not read (on_wait counts it)
                await self._runtime.ingest_record(messages, position, shard.stream, on_wait=self._waited)
            except RuleRejected as rejected:  # a data-quality rule with onFailure ERROR
                self._dead_letter(position, where, str(rejected), routing, data)
                return
        # No await from here on: dead letters land in the same epoch as the position.
        for unkeyed in (u for u in users if not u.partition_key):
            self._dead_letter(position, where, _NO_KEY, routing, unkeyed.data)
        if not users:  # an aggregate whose records all belong to other shards
            self._runtime.reject_record(position, None)

    def _waited(self) -> None:
        self.paused += 1

    def _dead_letter(
        self, position: SourcePosition, where: str, reason: str, routing: KinesisStreamRoute, data: bytes,
    ) -> None:
        log.warning("%s: %s; moved to the dead letters", where, reason)
        self._runtime.reject_record(position, unroutable(
            position, where, reason, routing.targets[0], None, str(routing.value_type), data,
            self._runtime.clock.now(),
        ))
