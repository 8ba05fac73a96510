"""Data-quality rules at the playground ingress: each onFailure mode, protobuf, passing messages.

A real runtime with its playground ingress, egress and admin API on loopback; the target is an
official-SDK function served over real HTTP that reports every message it receives (typename and
bytes) on the `seen` topic, so a test can tell what reached it, and unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from statefun import IntType, StatefulFunctions, ValueSpec

from baton.module.specs import TypeName
from proto.orders_pb2 import OrderLine
from tests.conftest import playground_module
from tests.kafka.conftest import broker as broker  # the Kafka broker fixture, for this module too
from tests.kafka.conftest import create_topics, read_records
from tests.runtime.test_python_sdk import emit

JSON_LINE = "application/vnd.orders/OrderLine"
PROTO_LINE = "application/vnd.type.googleapis.com/orders.OrderLine"

RULES = """
---
kind: baton.rules.v1/rules
spec:
  functionType: orders/order
  messageType: [orders/OrderLine, type.googleapis.com/orders.OrderLine]
  descriptors: [{pythonModule: proto.orders_pb2}]
  rules:
    - name: positive-quantity
      kind: CONDITION
      type: CEL
      expr: message.quantity > 0
      onFailure: DLQ
      params: {dlq.egress: io.statefun.playground/egress, dlq.topic: rejected}
    - name: sku-format
      expr: message.sku.matches('^[A-Z]{3}-[0-9]{3}$')
      onFailure: ERROR
    - name: small-order
      expr: message.quantity < 100
      onFailure: NONE
    - name: known-order
      expr: message.order_id.startsWith('o')
      onFailure: DLQ
"""


def sink() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("orders/order", specs=[ValueSpec("seen", IntType)])
    def order(context, message):
        context.storage.seen = (context.storage.seen or 0) + 1
        raw = message.typed_value
        emit(context, "seen", {"typename": raw.typename, "value": base64.b64encode(raw.value).decode()})

    return functions


@pytest.fixture
async def app(function_server, start_app):
    url = await function_server(sink())
    return await start_app(playground_module(url, "orders", RULES, topics=("seen", "rejected")))


def line(**fields) -> dict:
    return {"order_id": "o1", "line_no": 1, "sku": "ABC-123", "quantity": 2, **fields}


async def rule_metrics(app) -> dict:
    return (await app.admin_get("/metrics.json"))["rules"]


async def test_a_message_that_meets_every_rule_arrives_untouched(app):
    body = json.dumps(line(), separators=(",", ":")) + "  "  # odd spacing must survive
    assert await app.send("orders/order/o1", body, JSON_LINE) == 202
    seen = json.loads(await app.take("seen"))
    assert seen["typename"] == "orders/OrderLine"
    assert base64.b64decode(seen["value"]) == body.encode()
    metrics = await rule_metrics(app)
    assert {name: m["checked"] for name, m in metrics.items()} == dict.fromkeys(metrics, 1)
    assert all(m["failed"] == 0 for m in metrics.values())


async def test_error_rejects_at_the_ingress_with_422_and_the_rule_name(app):
    async with app.session.put(
        f"{app.ingress}/orders/order/o1", data=json.dumps(line(sku="abc")),
        headers={"Content-Type": JSON_LINE},
    ) as response:
        assert response.status == 422
        assert response.headers["Baton-Rule"] == "sku-format"
        assert "sku-format" in await response.text()
    async with app.session.post(  # the admin API's send goes through the same rules
        f"{app.admin}/send/orders/order/o1", data=json.dumps(line(sku="x")),
        headers={"Content-Type": JSON_LINE},
    ) as response:
        assert response.status == 422
    assert (await rule_metrics(app))["sku-format"] == {"checked": 2, "failed": 2}
    assert app.runtime.metrics.of(TypeName("orders", "order")).messages_in == 0
    async with app.session.get(f"{app.admin}/metrics") as response:  # and in Prometheus' format
        scraped = {
            (sample.name, sample.labels.get("rule")): sample.value
            for family in text_string_to_metric_families(await response.text())
            for sample in family.samples
        }
    assert scraped[("baton_rule_checked_total", "sku-format")] == 2
    assert scraped[("baton_rule_failed_total", "sku-format")] == 2


async def test_dlq_sends_the_message_with_rule_and_reason_to_the_dead_letter_topic(app):
    body = json.dumps(line(quantity=0))
    assert await app.send("orders/order/o1", body, JSON_LINE) == 202
    record = json.loads(await app.take("rejected"))
    assert record["rule"] == "positive-quantity"
    assert "message.quantity > 0" in record["reason"]
    assert record["target"] == "orders/order/o1"
    assert record["ingress"] == "io.statefun.playground/ingress"
    assert record["typename"] == "orders/OrderLine"
    assert record["json"] == json.loads(body)
    assert await app.take("seen", wait=0) is None  # never reached the function
    assert (await rule_metrics(app))["positive-quantity"] == {"checked": 1, "failed": 1}


async def test_dlq_without_a_target_goes_to_batons_dead_letters(app):
    assert await app.send("orders/order/x9", json.dumps(line(order_id="x9")), JSON_LINE) == 202
    letters = await app.admin_get("/dead-letters")
    assert len(letters) == 1
    assert letters[0]["target"] == "orders/order/x9"
    assert letters[0]["reason"].startswith("rule known-order: ")
    assert letters[0]["argument"]["json"]["order_id"] == "x9"


async def test_dlq_with_an_idempotency_key_dead_letters_once(app):
    for _ in range(2):
        async with app.session.put(
            f"{app.ingress}/orders/order/x1", data=json.dumps(line(order_id="x1")),
            headers={"Content-Type": JSON_LINE, "Idempotency-Key": "k1"},
        ) as response:
            assert response.status in (200, 202)
    assert len(await app.admin_get("/dead-letters")) == 1


async def test_none_counts_and_delivers(app):
    assert await app.send("orders/order/o1", json.dumps(line(quantity=500)), JSON_LINE) == 202
    assert json.loads(await app.take("seen"))["typename"] == "orders/OrderLine"
    metrics = await rule_metrics(app)
    assert metrics["small-order"] == {"checked": 1, "failed": 1}
    assert metrics["positive-quantity"] == {"checked": 1, "failed": 0}


async def test_a_rule_over_a_protobuf_message(app):
    good = OrderLine(order_id="o1", line_no=1, sku="ABC-123", quantity=3).SerializeToString()
    bad = OrderLine(order_id="o2", line_no=1, sku="ABC-123", quantity=0).SerializeToString()
    assert await app.send("orders/order/o1", good, PROTO_LINE) == 202
    assert await app.send("orders/order/o2", bad, PROTO_LINE) == 202
    seen = json.loads(await app.take("seen"))
    assert seen["typename"] == "type.googleapis.com/orders.OrderLine"
    assert base64.b64decode(seen["value"]) == good
    record = json.loads(await app.take("rejected"))
    assert record["rule"] == "positive-quantity" and record["target"] == "orders/order/o2"
    assert base64.b64decode(record["base64"]) == bad
    await app.runtime.until_idle(5)
    assert await app.take("seen", wait=0) is None


async def test_an_undecodable_message_fails_every_rule_and_says_why(app):
    async with app.session.put(
        f"{app.ingress}/orders/order/o1", data=b"\xff\x00not a line",
        headers={"Content-Type": PROTO_LINE},
    ) as response:
        assert response.status == 422  # sku-format is an ERROR rule
        assert "not a valid serialized type.googleapis.com/orders.OrderLine" in await response.text()
    assert all(m == {"checked": 1, "failed": 1} for m in (await rule_metrics(app)).values())


async def test_messages_the_rules_do_not_select_pass_unchecked(app):
    assert await app.send("orders/order/o1", json.dumps({"anything": 1}), "application/vnd.orders/Other") == 202
    assert json.loads(await app.take("seen"))["typename"] == "orders/Other"
    assert all(m["checked"] == 0 for m in (await rule_metrics(app)).values())


KAFKA_DLQ = """
---
kind: io.statefun.kafka.v1/egress
spec:
  id: orders/dead-letters
  address: 127.0.0.1:9092
---
kind: baton.rules.v1/rules
spec:
  messageType: orders/OrderLine
  rules:
    - name: commented   # a `//` comment must not swallow the rules after it in the and-ed program
      expr: "message.quantity > 0 // positive"
      onFailure: NONE
    - name: line-number
      expr: message.line_no >= 1
      onFailure: DLQ
      params: {dlq.egress: orders/dead-letters, dlq.topic: bad-order-lines}
"""


async def test_dlq_to_a_kafka_topic_goes_through_the_durable_outbox(function_server, start_app, broker):
    create_topics(broker.address, "bad-order-lines")
    module = playground_module(await function_server(sink()), "orders",
                               KAFKA_DLQ.replace("127.0.0.1:9092", broker.address))
    app = await start_app(module)
    body = json.dumps(line(line_no=0))
    assert await app.send("orders/order/o7", body, JSON_LINE) == 202
    # The dead letter reaches Kafka through the outbox and the egress's publisher.
    records = await asyncio.to_thread(read_records, broker.address, "bad-order-lines", expect=1)
    assert [key for key, _, _ in records] == [b"o7"]
    letter = json.loads(records[0][1] or b"")
    assert (letter["rule"], letter["target"], letter["json"]) == ("line-number", "orders/order/o7", json.loads(body))
    assert (await rule_metrics(app))["line-number"] == {"checked": 1, "failed": 1}
