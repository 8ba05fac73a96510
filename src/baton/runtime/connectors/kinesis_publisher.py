"""The Kinesis egress (`io.statefun.kinesis.v1/egress`): committed outbox records → PutRecords.

Records from the SDK's `kinesis_egress_message` (`KinesisEgressRecord`) leave the outbox only
once Kinesis accepted every one (at least once, as StateFun's producer with `failOnError`).
Each batch goes out per stream in outbox order, in PutRecords calls of at most 500 records /
5 MiB. Throttling of a whole call (`ProvisionedThroughputExceededException` and the like) and
the failed entries of a partial failure (only those) are retried with exponential backoff until
Kinesis takes them; any other error hands the batch back to the drain, which retries it (a
record may then be sent twice). `maxOutstandingRecords` bounds the records in flight.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from statefun.kinesis_egress_pb2 import KinesisEgressRecord

from baton.module.specs import KinesisEgressSpec
from baton.runtime.connectors.kinesis_client import THROTTLING, error_code, kinesis_client
from baton.runtime.connectors.publisher import Publisher
from baton.runtime.messages import EgressRecord

log = logging.getLogger(__name__)

_CALL_RECORDS = 500  # PutRecords limits
_CALL_BYTES = 5 * 1024 * 1024
_BACKOFF_S = (0.05, 2.0)


def _entry(record: EgressRecord) -> tuple[str, dict[str, Any]]:
    """The stream and PutRecords entry of an outbox record (checked when the function sent it)."""
    parsed = KinesisEgressRecord.FromString(record.value or b"")
    entry: dict[str, Any] = {"Data": parsed.value_bytes, "PartitionKey": parsed.partition_key}
    if parsed.explicit_hash_key:  # an empty one is not set (§1.10)
        entry["ExplicitHashKey"] = parsed.explicit_hash_key
    return parsed.stream, entry


def _calls(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    calls: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entry in entries:
        weight = len(entry["Data"]) + len(entry["PartitionKey"].encode())
        if len(calls[-1]) == _CALL_RECORDS or (calls[-1] and size + weight > _CALL_BYTES):
            calls.append([])
            size = 0
        calls[-1].append(entry)
        size += weight
    return calls


class KinesisPublisher(Publisher):
    def __init__(self, spec: KinesisEgressSpec) -> None:
        self.spec = spec
        self.egress = str(spec.id)
        self._client = kinesis_client(
            f"Kinesis egress {spec.id}", spec.aws_region, spec.aws_credentials,
            spec.client_config_properties,
        )
        self.throttled = 0  # calls Kinesis throttled as a whole (metrics, tests)
        self.retried = 0  # entries sent again after a partial failure

    async def start(self) -> int:
        return 0  # Kinesis keeps no progress marker: at least once

    async def send(self, records: list[EgressRecord]) -> None:
        streams: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            stream, entry = _entry(record)
            streams.setdefault(stream, []).append(entry)
        for stream, entries in streams.items():
            for call in _calls(entries):
                await self._put(stream, call)

    async def _put(self, stream: str, entries: list[dict[str, Any]]) -> None:
        """PutRecords until Kinesis has every entry, retrying throttling and failed entries."""
        from botocore.exceptions import ClientError

        delay = _BACKOFF_S[0]
        while entries:
            try:
                response = await asyncio.to_thread(
                    self._client.put_records, StreamName=stream, Records=entries
                )
            except ClientError as error:
                if error_code(error) not in THROTTLING:
                    raise
                self.throttled += 1
                log.debug("Kinesis egress %s: stream %s throttled; retrying", self.egress, stream)
            else:
                entries = [e for e, r in zip(entries, response["Records"]) if r.get("ErrorCode")]
                if not entries:
                    return
                self.retried += len(entries)
                log.debug("Kinesis egress %s: %d of the records to %s failed; sending those again",
                          self.egress, len(entries), stream)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_S[1])
