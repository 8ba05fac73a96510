"""The Kafka ingress on a real broker: routing, startup positions, invalid records, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, TopicPartition

from baton.runtime.sqlite_store import SqliteStore
from tests.conftest import eventually
from tests.durability.source_support import count, durable_runtime, recording_functions
from tests.kafka.conftest import create_topics, produce


def module(url: str, address: str, ingress: str) -> str:
    return f"""
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: {url}
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: example/in
  address: {address}
  consumerGroupId: baton-test
{ingress}
"""


ROUTE_TWO = """  topics:
    - topic: names
      valueType: example/Name
      targets: [example/counter, example/audit]
"""


async def test_records_go_to_every_target_in_order_and_a_restart_resumes(tmp_path, broker, function_server):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    create_topics(broker.address, "names", partitions=2)
    yaml_text = module(url, broker.address, ROUTE_TWO + "  startupPosition: {type: earliest}\n")
    produce(broker.address, "names", [(f"k{i % 5}", f"v{i}".encode()) for i in range(40)])
    runtime = await durable_runtime(tmp_path, yaml_text)
    try:
        await eventually(lambda: sum(count(runtime, "audit", f"k{k}") for k in range(5)) == 40, 20)
        await runtime.until_idle(10)
        # The offsets went to the consumer group too, once durable (for lag tools).
        group = Consumer({"bootstrap.servers": broker.address, "group.id": "baton-test"})
        parts = [TopicPartition("names", 0), TopicPartition("names", 1)]
        await eventually(lambda: sum(tp.offset for tp in group.committed(parts, timeout=5)) == 40, 20)
        group.close()
    finally:
        await runtime.stop()
    for k in range(5):  # key → id, both targets, each key's values in the order produced
        values = [v for (t, i, v) in seen if t == "counter" and i == f"k{k}"]
        assert values == [f"v{i}" for i in range(40) if i % 5 == k]
        assert [v for (t, i, v) in seen if t == "audit" and i == f"k{k}"] == values
    # Restart: the stored positions win over `earliest`; only new records come.
    seen.clear()
    produce(broker.address, "names", [("k0", b"late")])
    runtime = await durable_runtime(tmp_path, yaml_text)
    try:
        await eventually(lambda: count(runtime, "counter", "k0") == 9, 20)
        await runtime.until_idle(10)
        assert runtime.positions("example/in").keys() == {"names/0", "names/1"}
    finally:
        await runtime.stop()
    assert sorted(seen) == [("audit", "k0", "late"), ("counter", "k0", "late")]


@pytest.mark.parametrize("startup, expected", [
    ("{type: earliest}", ["old-0", "old-1", "old-2", "new"]),
    ("{type: latest}", ["new"]),
    ("{type: specific-offsets, offsets: [{names/0: 2}]}", ["old-2", "new"]),
    ("{type: group-offsets}", ["old-1", "old-2", "new"]),   # the group committed offset 1
    ("DATE", ["old-2", "new"]),
])
async def test_startup_positions(tmp_path, broker, function_server, startup, expected):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    create_topics(broker.address, "names")
    produce(broker.address, "names", [("a", b"old-0"), ("a", b"old-1")])
    await asyncio.sleep(0.05)  # record timestamps are milliseconds: let the date fall between
    cut = datetime.now(UTC)
    await asyncio.sleep(0.05)
    produce(broker.address, "names", [("a", b"old-2")])
    group = Consumer({"bootstrap.servers": broker.address, "group.id": "baton-test"})
    group.commit(offsets=[TopicPartition("names", 0, 1)], asynchronous=False)
    group.close()
    if startup == "DATE":
        startup = "{type: date, date: '" + cut.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " +0000'}"
    routing = ROUTE_TWO.replace("example/counter, example/audit", "example/counter")
    runtime = await durable_runtime(tmp_path, module(url, broker.address, routing + f"  startupPosition: {startup}\n"))
    try:
        await eventually(lambda: runtime.positions("example/in") != {}, 20)
        produce(broker.address, "names", [("a", b"new")])
        await eventually(lambda: seen and seen[-1][2] == "new", 20)
    finally:
        await runtime.stop()
    assert [v for (_, _, v) in seen] == expected


@pytest.mark.parametrize("handling", ["", "forward", "skip", "fail"])
async def test_a_record_without_a_key_never_stops_the_world(tmp_path, broker, function_server, handling):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen, "example/Name"))
    create_topics(broker.address, "names", "other")
    routing = ROUTE_TWO.replace("example/counter, example/audit", "example/counter") + """    - topic: other
      valueType: example/Name
      targets: [example/counter]
  startupPosition: {type: earliest}
"""
    if handling:
        routing += f"  invalidRecordHandling: {{type: {handling}}}\n"
    produce(broker.address, "names",
            [("a", b"1"), (None, b"no key"), (b"\xff\xfe", b"bad key"), (b"", b"empty key"), ("a", b"2")])
    produce(broker.address, "other", [("b", b"3")])
    runtime = await durable_runtime(tmp_path, module(url, broker.address, routing))
    try:
        await eventually(lambda: ("counter", "b", "3") in seen, 20)
        if handling == "fail":  # that partition stops at the bad record; the other topic flows
            await eventually(lambda: runtime.positions("example/in").get("names/0") == "1", 10)
            # A later record on the other topic arrives; the stopped partition's next one does not.
            produce(broker.address, "other", [("b", b"4")])
            await eventually(lambda: ("counter", "b", "4") in seen, 20)
            assert [v for (_, i, v) in seen if i == "a"] == ["1"]
            assert runtime.dead_letters() == []
            return
        await eventually(lambda: [v for (_, i, v) in seen if i == "a"] == ["1", "2"], 20)
        await eventually(lambda: runtime.positions("example/in").get("names/0") == "5", 10)
        letters = runtime.dead_letters()
    finally:
        await runtime.stop()
    if handling == "skip":
        assert letters == []
        return
    assert [(d.message.value, d.reason) for d in letters] == [
        (b"no key", "Kafka ingress example/in, topic names partition 0 offset 1: the record has no "
                    "key; StateFun routes by key (it becomes the id)"),
        (b"bad key", "Kafka ingress example/in, topic names partition 0 offset 2: the record's key "
                     "is not UTF-8 text; StateFun routes by key (it becomes the id)"),
        (b"empty key", "Kafka ingress example/in, topic names partition 0 offset 3: the record's key "
                       "is empty; StateFun routes by key (it becomes the id)"),
    ]
    reopened = SqliteStore(tmp_path / "data")  # dead letters are durable
    assert len(reopened.dead_letters()) == 3
    reopened.close()
