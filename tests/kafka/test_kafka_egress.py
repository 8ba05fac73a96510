"""The Kafka egress: records reach Kafka only after their epoch, each once; the admin API refuses
to take them (that would keep them from Kafka)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from baton.runtime import Address, Message
from baton.runtime.api import PublishedEgress
from baton.runtime.connectors.kafka_publisher import PROGRESS_TOPIC, SEQ_HEADER
from baton.runtime.sqlite_store import SqliteStore
from tests.durability.source_support import durable_runtime
from tests.kafka.conftest import counter_module, create_topics, read_records, read_topic
from tests.kafka.crash_functions import functions


@pytest.mark.parametrize("semantic", ["none", "at-least-once", "exactly-once"])
async def test_records_reach_kafka_with_key_value_and_seq_header(tmp_path, broker, function_server, semantic):
    url = await function_server(functions)
    create_topics(broker.address, "totals")
    runtime = await durable_runtime(tmp_path, counter_module(url, broker.address, "crash", egress=semantic),
                                    admin_port=0)
    try:
        await runtime.ingest(*[Message(Address("crash", "counter", f"k{i % 3}"), None, "crash/Amount", b"2")
                               for i in range(9)])
        seen = await asyncio.to_thread(read_records, broker.address, "totals", expect=9)
        with pytest.raises(PublishedEgress):
            await runtime.take_egress("crash/out", "totals")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{runtime.url_of('admin')}/egress/crash/out/totals") as response:
                assert response.status == 409
                assert "read them there" in await response.text()
    finally:
        await runtime.stop()
    assert sorted((key, value) for key, value, _ in seen) == sorted(
        (f"k{k}".encode(), f"k{k}:{n}:{2 * n}".encode()) for k in range(3) for n in range(1, 4)
    )
    seqs = sorted(int(headers[SEQ_HEADER]) for _, _, headers in seen)
    assert len(set(seqs)) == 9  # every record names its outbox seq
    store = SqliteStore(tmp_path / "data")
    assert store.pending("crash/out", 100) == []  # acknowledged by Kafka, gone from the outbox
    store.close()
    if semantic == "exactly-once":  # the highest outbox seq, written in the same transactions
        progress = read_topic(broker.address, PROGRESS_TOPIC)
        assert progress and {key for key, _ in progress} == {b"baton-crash/out"}
        assert max(int(value or b"0") for _, value in progress) == seqs[-1]
