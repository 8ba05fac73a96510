"""The Kinesis egress on moto's server: PutRecords from the outbox, throttling and partial failures."""

from __future__ import annotations

from collections import Counter

from statefun import IntType, StatefulFunctions, ValueSpec, kinesis_egress_message

from baton.runtime import Address
from baton.runtime.connectors.kinesis_publisher import KinesisPublisher
from baton.runtime.connectors.publisher import OutboxDrain
from baton.runtime.sqlite_store import SqliteStore
from tests.conftest import eventually
from tests.durability.source_support import durable_runtime, started_runtime
from tests.kinesis.conftest import Kinesis
from tests.kinesis.throttling_proxy import ThrottlingProxy


def counting_functions() -> StatefulFunctions:
    """`example/counter` emits `<id>:<n>` (n = messages so far) to stream `out`, key = id."""
    functions = StatefulFunctions()

    @functions.bind("example/counter", specs=[ValueSpec("n", IntType)])
    async def counter(context, message):
        context.storage.n = (context.storage.n or 0) + 1
        hash_key = "1" if context.address.id == "pinned" else None  # md5 would pick shard 2
        context.send_egress(kinesis_egress_message(
            typename="example/out", stream="out", partition_key=context.address.id,
            value=f"{context.address.id}:{context.storage.n}", explicit_hash_key=hash_key,
        ))

    return functions


def module(url: str, kinesis: Kinesis, egress_endpoint: str) -> str:
    return f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: example/*, urlPathTemplate: "{url}"}}
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: example/in
{kinesis.region_yaml()}  startupPosition: {{type: earliest}}
  streams: [{{stream: in, valueType: example/Amount, targets: [example/counter]}}]
---
kind: io.statefun.kinesis.v1/egress
spec:
  id: example/out
{kinesis.region_yaml(egress_endpoint)}  maxOutstandingRecords: 100
"""


async def test_records_reach_the_stream_through_throttling_and_partial_failures(
        tmp_path, kinesis, function_server):
    url = await function_server(counting_functions())
    kinesis.create_stream("in", shards=2)
    kinesis.create_stream("out", shards=2)
    keys = [f"k{i}" for i in range(30)] + ["pinned"]
    kinesis.put("in", [(keys[i % len(keys)], b"1") for i in range(310)])
    expected = Counter(f"{k}:{n}" for k in keys for n in range(1, 11))
    # Three throttled calls outlast botocore's own retries; then two calls lose half their entries.
    async with ThrottlingProxy(kinesis.url, throttle=3, partial=2) as proxy:
        runtime = await durable_runtime(tmp_path, module(url, kinesis, proxy.url))
        try:
            drain = next(c for c in runtime._connectors if isinstance(c, OutboxDrain))
            publisher = drain.publisher
            assert isinstance(publisher, KinesisPublisher)
            await eventually(lambda: drain.sent == 310, 60)
            await runtime.until_idle(10)
            assert runtime.status().parked == 0
        finally:
            await runtime.stop()
    records = await kinesis.read_until("out", lambda got: len(got) >= 310)
    got = Counter(r["Data"].decode() for r in records)
    assert got == expected  # every record once: failed entries were not stored, then sent again
    assert proxy.throttled == 3 and publisher.throttled >= 1
    assert proxy.failed_entries > 0 and publisher.retried == proxy.failed_entries
    assert {r["PartitionKey"] for r in records} == set(keys)
    # The explicit hash key chose the first shard (the partition key's md5 falls in the second).
    first = kinesis.shard_ids("out")[0]
    iterator = kinesis.client.get_shard_iterator(
        StreamName="out", ShardId=first, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    on_first = kinesis.client.get_records(ShardIterator=iterator)["Records"]
    assert sum(r["PartitionKey"] == "pinned" for r in on_first) == 10
    reopened = SqliteStore(tmp_path / "data")  # the outbox is empty once Kinesis has them all
    assert reopened.pending("example/out", 10) == []
    reopened.close()


async def test_a_record_kinesis_would_refuse_parks_its_address(tmp_path, kinesis, function_server):
    functions = StatefulFunctions()

    @functions.bind("example/counter")
    async def counter(context, message):
        context.send_egress(kinesis_egress_message(
            typename="example/out", stream="out", partition_key="x" * 257, value="too long a key",
        ))

    url = await function_server(functions)
    kinesis.create_stream("in")
    kinesis.create_stream("out")
    kinesis.put("in", [("a", b"1")])
    runtime = await started_runtime(module(url, kinesis, kinesis.url))
    try:
        await eventually(lambda: Address("example", "counter", "a") in runtime.parked(), 20)
        reason = runtime.parked()[Address("example", "counter", "a")].reason
    finally:
        await runtime.stop()
    assert "needs a partition key of 1 to 256 characters, got 257" in reason
    assert kinesis.read("out") == []
