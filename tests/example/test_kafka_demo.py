"""`python -m functions --kafka`: the same application with CDC events and outcomes on Kafka."""

from __future__ import annotations

import io

from rich.console import Console

from functions import orders
from functions.demo import run
from functions.kafka_demo import EGRESS_ID, kafka_module_text
from functions.summary import fulfillment_outcome
from tests.example.test_demo import free_ports_config


async def test_the_kafka_example_reconciles(tmp_path):
    report = await run(free_ports_config(tmp_path, kafka=True), Console(file=io.StringIO()))
    assert report.problems == []
    stream, outcomes = report.stream, report.outcomes
    assert set(outcomes.alerted) == {o.order_id for o in stream.orders if o.expected.alerted}
    assert {i: fulfillment_outcome(r) for i, r in outcomes.fulfillment.items()} == {
        o.order_id: o.expected.fulfillment for o in stream.orders if not o.expected.alerted
    }
    assert "Kafka broker (Tansu, in memory)" in report.listeners
    assert "ingress io.statefun.playground/ingress" not in report.listeners  # events came by Kafka
    assert orders.EGRESS == orders.PLAYGROUND_EGRESS  # restored for the playground example


def test_the_kafka_module_is_module_yaml_with_kafka_in_and_out():
    text = kafka_module_text("127.0.0.1:9092")
    assert "io.statefun.playground" not in text.replace("io.statefun.playground/EgressRecord", "")
    assert "io.statefun.kafka.v1/ingress" in text and "io.statefun.kafka.v1/egress" in text
    assert f"egress: {EGRESS_ID}" in text  # the workflow's results go to Kafka too
    assert "topic: cdc.orders.line.pb" in text
