"""KPL aggregation: one Kinesis record that carries many user records.

The Kinesis Producer Library (and so StateFun's own Kinesis egress, whose KPL aggregates by
default) packs user records into one Kinesis record: the magic bytes `F3 89 9A C2`, a protobuf
`AggregatedRecord`, and the MD5 of that protobuf. StateFun's ingress (Flink's Kinesis consumer,
through the KCL's `UserRecord.deaggregate`) reads the user records; so does baton. As in the KCL,
data without the magic or with a wrong MD5 is an ordinary record, and a user record whose hash
key falls outside the shard's range (left behind by resharding) is skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

MAGIC = bytes([0xF3, 0x89, 0x9A, 0xC2])
_DIGEST = 16


def _aggregated_record_class() -> Any:
    """The KPL's `AggregatedRecord` (its messages.proto), built at import: no generated code."""
    proto = descriptor_pb2.FileDescriptorProto(name="baton_kpl_messages.proto", package="baton.kpl",
                                               syntax="proto2")
    field = descriptor_pb2.FieldDescriptorProto
    optional, required, repeated = field.LABEL_OPTIONAL, field.LABEL_REQUIRED, field.LABEL_REPEATED
    tag = proto.message_type.add(name="Tag")
    tag.field.add(name="key", number=1, label=required, type=field.TYPE_STRING)
    tag.field.add(name="value", number=2, label=optional, type=field.TYPE_STRING)
    record = proto.message_type.add(name="Record")
    record.field.add(name="partition_key_index", number=1, label=required, type=field.TYPE_UINT64)
    record.field.add(name="explicit_hash_key_index", number=2, label=optional, type=field.TYPE_UINT64)
    record.field.add(name="data", number=3, label=required, type=field.TYPE_BYTES)
    record.field.add(name="tags", number=4, label=repeated, type=field.TYPE_MESSAGE,
                     type_name=".baton.kpl.Tag")
    aggregated = proto.message_type.add(name="AggregatedRecord")
    aggregated.field.add(name="partition_key_table", number=1, label=repeated, type=field.TYPE_STRING)
    aggregated.field.add(name="explicit_hash_key_table", number=2, label=repeated, type=field.TYPE_STRING)
    aggregated.field.add(name="records", number=3, label=repeated, type=field.TYPE_MESSAGE,
                         type_name=".baton.kpl.Record")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("baton.kpl.AggregatedRecord"))


AggregatedRecord = _aggregated_record_class()


class UndecodableAggregate(ValueError):
    """A record with the KPL magic and a matching MD5 whose content is not a valid aggregate."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    partition_key: str
    data: bytes


def _hash_key(partition_key: str, explicit: str | None) -> int:
    if explicit:
        return int(explicit)
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def user_records(
    partition_key: str, data: bytes, hash_range: tuple[int, int] | None = None
) -> list[UserRecord]:
    """The user records in a Kinesis record: itself, unless it is a KPL aggregate.

    `hash_range` (the shard's, inclusive) drops user records that belong to another shard.
    Raises UndecodableAggregate for a corrupt aggregate.
    """
    if len(data) <= len(MAGIC) + _DIGEST or not data.startswith(MAGIC):
        return [UserRecord(partition_key, data)]
    body, digest = data[len(MAGIC):-_DIGEST], data[-_DIGEST:]
    if hashlib.md5(body).digest() != digest:
        return [UserRecord(partition_key, data)]  # as the KCL: not an aggregate after all
    try:
        aggregate = AggregatedRecord.FromString(body)
        keys, hash_keys = list(aggregate.partition_key_table), list(aggregate.explicit_hash_key_table)
        result = []
        for record in aggregate.records:
            key = keys[record.partition_key_index]
            explicit = (hash_keys[record.explicit_hash_key_index]
                        if record.HasField("explicit_hash_key_index") else None)
            if hash_range is not None and not hash_range[0] <= _hash_key(key, explicit) <= hash_range[1]:
                continue
            result.append(UserRecord(key, record.data))
        return result
    except (DecodeError, IndexError, ValueError) as error:
        raise UndecodableAggregate(f"a KPL aggregated record that cannot be decoded ({error})") from None
