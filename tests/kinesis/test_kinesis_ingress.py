"""The Kinesis ingress on moto's server: routing, startup positions, bad records, restarts, resharding."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

import pytest

from baton.runtime import Address
from baton.runtime.connectors.kinesis_aggregation import MAGIC
from baton.runtime.connectors.kinesis_source import KinesisSource
from baton.runtime.sqlite_store import SqliteStore
from tests.conftest import eventually
from tests.durability.source_support import count, durable_runtime, recording_functions
from tests.kinesis.conftest import Kinesis


def module(url: str, kinesis: Kinesis, lines: str, targets: str = "example/counter, example/audit") -> str:
    return f"""
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: {url}
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: example/in
{kinesis.region_yaml()}  streams:
    - stream: names
      valueType: example/Name
      targets: [{targets}]
{lines}"""


async def test_records_go_to_every_target_in_order_and_a_restart_resumes(tmp_path, kinesis, function_server):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    kinesis.create_stream("names", shards=2)
    kinesis.put("names", [(f"k{i % 5}", f"v{i}".encode()) for i in range(40)])
    yaml_text = module(url, kinesis, "  startupPosition: {type: earliest}\n")
    runtime = await durable_runtime(tmp_path, yaml_text)
    try:
        await eventually(lambda: sum(count(runtime, "audit", f"k{k}") for k in range(5)) == 40, 20)
        await runtime.until_idle(10)
        stored = runtime.positions("example/in")
    finally:
        await runtime.stop()
    for k in range(5):  # partition key → id, both targets, each key's values in the order written
        values = [v for (t, i, v) in seen if t == "counter" and i == f"k{k}"]
        assert values == [f"v{i}" for i in range(40) if i % 5 == k]
        assert [v for (t, i, v) in seen if t == "audit" and i == f"k{k}"] == values
    # Each shard's position is the sequence number of its last record.
    shards = kinesis.shard_ids("names")
    assert stored.keys() == {f"names/{s}" for s in shards}
    last = {s: max(int(r["SequenceNumber"]) for r in _records_of(kinesis, s)) for s in shards}
    assert {k: int(v) for k, v in stored.items()} == {f"names/{s}": n for s, n in last.items()}
    # Restart on the same data dir, moto still up: resumes after the stored sequence numbers
    # (not `earliest`), so only the new record comes.
    seen.clear()
    kinesis.put("names", [("k0", b"late")])
    runtime = await durable_runtime(tmp_path, yaml_text)
    try:
        await eventually(lambda: count(runtime, "counter", "k0") == 9, 20)
        await runtime.until_idle(10)
    finally:
        await runtime.stop()
    assert sorted(seen) == [("audit", "k0", "late"), ("counter", "k0", "late")]


def _records_of(kinesis: Kinesis, shard: str) -> list[dict]:
    iterator = kinesis.client.get_shard_iterator(
        StreamName="names", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return kinesis.client.get_records(ShardIterator=iterator)["Records"]


@pytest.mark.parametrize("startup, expected", [
    ("{type: earliest}", ["old-0", "old-1", "old-2", "new"]),
    ("{type: latest}", ["new"]),
    ("DATE", ["old-2", "new"]),
    ("", ["new"]),  # StateFun's default is latest
])
async def test_startup_positions(tmp_path, kinesis, function_server, startup, expected):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    kinesis.create_stream("names")
    kinesis.put("names", [("a", b"old-0"), ("a", b"old-1")])
    await asyncio.sleep(0.05)  # arrival timestamps: let the date fall strictly between
    cut = datetime.now(UTC)
    await asyncio.sleep(0.05)
    kinesis.put("names", [("a", b"old-2")])
    if startup == "DATE":
        startup = "{type: date, date: '" + cut.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000'}"
    lines = f"  startupPosition: {startup}\n" if startup else ""
    runtime = await durable_runtime(tmp_path, module(url, kinesis, lines, targets="example/counter"))
    try:
        await eventually(lambda: runtime.positions("example/in") != {}, 20)
        # The starting point is stored before any record: a restart now would start there too.
        kinesis.put("names", [("a", b"new")])
        await eventually(lambda: seen and seen[-1][2] == "new", 20)
        await runtime.until_idle(10)
    finally:
        await runtime.stop()
    assert [v for (_, _, v) in seen] == expected


async def test_latest_does_not_move_when_baton_restarts_before_any_record(tmp_path, kinesis, function_server):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    kinesis.create_stream("names")
    yaml_text = module(url, kinesis, "  startupPosition: {type: latest}\n", targets="example/counter")
    runtime = await durable_runtime(tmp_path, yaml_text)
    await eventually(lambda: runtime.positions("example/in") != {}, 20)
    await runtime.stop()
    kinesis.put("names", [("a", b"while-down")])  # arrives while baton is stopped
    runtime = await durable_runtime(tmp_path, yaml_text)
    try:
        await eventually(lambda: seen == [("counter", "a", "while-down")], 20)
    finally:
        await runtime.stop()


async def test_a_record_without_a_partition_key_is_dead_lettered_and_the_rest_flows(
        tmp_path, kinesis, function_server):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    kinesis.create_stream("names")
    kinesis.put("names", [("a", b"1"), ("", b"no key"), ("a", b"2")])  # real Kinesis refuses ""; moto not
    (shard,) = kinesis.shard_ids("names")
    bad_sequence = _records_of(kinesis, shard)[1]["SequenceNumber"]
    runtime = await durable_runtime(tmp_path, module(url, kinesis, "  startupPosition: {type: earliest}\n",
                                              targets="example/counter"))
    try:
        await eventually(lambda: [v for (_, i, v) in seen if i == "a"] == ["1", "2"], 20)
        await runtime.until_idle(10)
        letters = runtime.dead_letters()
    finally:
        await runtime.stop()
    assert [(d.message.target, d.message.typename, d.message.value, d.reason) for d in letters] == [(
        Address("example", "counter", "(none)"), "example/Name", b"no key",
        f"Kinesis ingress example/in, stream names shard {shard} sequence number {bad_sequence}: the "
        "record has no partition key; StateFun routes by partition key (it becomes the id)",
    )]
    reopened = SqliteStore(tmp_path / "data")  # dead letters are durable
    assert len(reopened.dead_letters()) == 1
    reopened.close()


async def test_new_shards_from_a_split_are_read_from_their_start_after_the_parent(
        tmp_path, kinesis, function_server, monkeypatch):
    # moto keeps writing to the parent after a split (real Kinesis writes to the children), so
    # what it can show is discovery: the children are found, stored at their start, and read
    # once the parent is read to its end.
    monkeypatch.setattr(KinesisSource, "discovery_interval_s", 0.2)
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    kinesis.create_stream("names")
    (parent,) = kinesis.shard_ids("names")
    kinesis.put("names", [(f"k{i}", f"v{i}".encode()) for i in range(10)])
    runtime = await durable_runtime(tmp_path, module(url, kinesis, "  startupPosition: {type: earliest}\n",
                                              targets="example/counter"))
    try:
        source = next(c for c in runtime._connectors if isinstance(c, KinesisSource))
        await eventually(lambda: len(seen) == 10, 20)
        assert runtime.positions("example/in") == {f"names/{parent}": "10"}
        kinesis.client.split_shard(StreamName="names", ShardToSplit=parent, NewStartingHashKey=str(2**127))
        children = {f"names/{c}" for c in kinesis.shard_ids("names")} - {f"names/{parent}"}
        assert len(children) == 2
        await eventually(lambda: children <= source._readers.keys(), 20)
        assert f"names/{parent}" in source._finished  # the parent ended before its children began
        positions = runtime.positions("example/in")
    finally:
        await runtime.stop()
    assert {c: positions[c] for c in children} == dict.fromkeys(children, "earliest")
    assert sorted(v for (_, _, v) in seen) == sorted(f"v{i}" for i in range(10))


async def test_kpl_aggregated_records_are_read_as_their_user_records(tmp_path, kinesis, function_server):
    from aws_kinesis_agg.aggregator import RecordAggregator

    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    kinesis.create_stream("names")
    aggregator = RecordAggregator()
    for i in range(6):
        assert aggregator.add_user_record(f"k{i % 3}", f"v{i}".encode()) is None
    outer_key, _, aggregate = aggregator.clear_and_get().get_contents()
    garbage = b"\x0a\xff\xff"  # KPL magic and a matching MD5, but no valid AggregatedRecord
    corrupt = MAGIC + garbage + hashlib.md5(garbage).digest()
    lookalike = MAGIC + b"not an aggregate, wrong digest" + bytes(16)  # an ordinary record (KCL)
    kinesis.put("names", [(outer_key, aggregate), ("x", corrupt), ("y", lookalike), ("z", b"plain")])
    (shard,) = kinesis.shard_ids("names")
    runtime = await durable_runtime(tmp_path, module(url, kinesis, "  startupPosition: {type: earliest}\n",
                                              targets="example/counter"))
    try:
        await eventually(lambda: ("counter", "z", "plain") in seen, 20)
        await runtime.until_idle(10)
        letters = runtime.dead_letters()
    finally:
        await runtime.stop()
    for k in range(3):  # each user record, its own partition key, in the aggregate's order
        assert [v for (_, i, v) in seen if i == f"k{k}"] == [f"v{i}" for i in range(6) if i % 3 == k]
    assert sorted(i for (_, i, _) in seen if not i.startswith("k")) == ["y", "z"]
    assert [(d.message.value, d.reason.split(": ", 1)[0]) for d in letters] == [
        (corrupt, f"Kinesis ingress example/in, stream names shard {shard} sequence number 2")]
    assert "a KPL aggregated record that cannot be decoded" in letters[0].reason
