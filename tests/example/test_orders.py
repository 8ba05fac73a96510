"""`orders/order` and the `orders/fulfillment` workflow, end to end through the playground."""

from __future__ import annotations

import json

from baton.module.specs import TypeName
from baton.runtime import Address
from functions.messages import (
    TOPIC_COMPLETED,
    TOPIC_FULFILLMENT,
    TOPIC_IGNORED,
    TOPIC_INCOMPLETE,
    TOPIC_REJECTED,
)
from functions.stream import DECLINED_CARD, GOOD_CARD, Event
from proto.orders_pb2 import OrderHeader, OrderLine
from tests.conftest import eventually
from tests.example.conftest import pass_the_deadline, send_event, take_records


def header(order_id: str, line_count: int, customer: str = "c-0001", card: str = GOOD_CARD) -> OrderHeader:
    return OrderHeader(order_id=order_id, customer_id=customer, line_count=line_count,
                       card_number=card, currency="EUR")


def line(order_id: str, n: int, sku: str = "MUG-04", quantity: int = 1, price: int = 1200) -> OrderLine:
    return OrderLine(order_id=order_id, line_no=n, sku=sku, quantity=quantity, unit_price_cents=price)


def entered(execution: dict) -> list[str]:
    return [e["name"] for e in execution["history"] if e["type"].endswith("StateEntered")]


async def test_every_outcome_of_the_order_pattern(orders_app):
    app = orders_app
    events = [
        # complete, lines before the header, mixed encodings
        Event(line("o-ok", 2, "DESK-02", 2, 18_900), binary=True),
        Event(line("o-ok", 1, "LAMP-01", 1, 2_900), binary=False),
        Event(header("o-ok", 2), binary=False),
        # line 2 never arrives; the header never arrives
        Event(header("o-missing", 3), binary=True),
        Event(line("o-missing", 3), binary=False),
        Event(line("o-missing", 1), binary=True),
        Event(line("o-nohead", 1), binary=False),
        # complete, then the workflow fails: declined card; out of stock; fraud
        Event(header("o-declined", 1, card=DECLINED_CARD), binary=False),
        Event(line("o-declined", 1), binary=True),
        Event(line("o-oos", 2, "OOS-LAMP-01", 3), binary=False),
        Event(header("o-oos", 2), binary=True),
        Event(line("o-oos", 1), binary=False),
        Event(header("o-fraud", 1, customer="fraud-0007"), binary=True),
        Event(line("o-fraud", 1), binary=True),
    ]
    for event in events:
        await send_event(app, event)

    completed = {r["header"]["order_id"]: r for r in await take_records(app, TOPIC_COMPLETED, 4)}
    assert set(completed) == {"o-ok", "o-declined", "o-oos", "o-fraud"}
    ok = completed["o-ok"]
    assert [l["line_no"] for l in ok["lines"]] == [1, 2]  # by line number, not arrival
    assert [l["sku"] for l in ok["lines"]] == ["LAMP-01", "DESK-02"]
    assert int(ok["total_cents"]) == 2_900 + 2 * 18_900

    results = {r["execution"]: r for r in await take_records(app, TOPIC_FULFILLMENT, 4)}
    assert set(results) == set(completed)
    assert results["o-ok"]["status"] == "SUCCEEDED"
    output = results["o-ok"]["output"]
    assert output["payment"] == {"charge_id": "ch-o-ok", "amount_cents": 40_700, "currency": "EUR"}
    assert output["checks"]["reservation"]["reservation_id"] == "rsv-o-ok"
    assert output["shipment"]["tracking_id"] == "trk-o-ok"
    declined = results["o-declined"]
    assert (declined["status"], declined["error"]) == ("FAILED", "PaymentDeclined")
    assert declined["cause"] == "card ending 0002 declined: insufficient funds; nothing charged"
    oos = results["o-oos"]
    assert (oos["status"], oos["error"]) == ("FAILED", "OrderCompensated")
    assert oos["cause"] == "OutOfStock: not in stock: OOS-LAMP-01 x3; payment refunded, stock released"
    fraud = results["o-fraud"]
    assert (fraud["status"], fraud["error"]) == ("FAILED", "OrderCompensated")
    assert fraud["cause"].startswith("FraudSuspected: customer fraud-0007 is on the fraud watch list;")

    # The compensation ran (refund and release) where something had been done, not otherwise.
    oos_run = (await app.admin_get("/workflows/orders/fulfillment/o-oos"))["execution"]
    assert {"ChargePayment", "RefundPayment", "ReleaseInventory", "OrderCompensated"} <= set(entered(oos_run))
    assert "Ship" not in entered(oos_run)
    declined_run = (await app.admin_get("/workflows/orders/fulfillment/o-declined"))["execution"]
    assert entered(declined_run)[-1] == "PaymentDeclined"
    assert "RefundPayment" not in entered(declined_run)

    assert await app.take(TOPIC_INCOMPLETE, wait=0) is None  # no alert before the deadline
    await pass_the_deadline(app)
    alerts = {r["order_id"]: r for r in await take_records(app, TOPIC_INCOMPLETE, 2)}
    assert set(alerts) == {"o-missing", "o-nohead"}
    missing = alerts["o-missing"]
    assert missing["header_received"] is True
    assert missing["expected_lines"] == 3
    assert (missing["received_lines"], missing["missing_lines"]) == ([1, 3], [2])
    assert "1 of 3 line(s) missing" in missing["reason"]
    nohead = alerts["o-nohead"]
    assert nohead["header_received"] is False and nohead["received_lines"] == [1]
    assert nohead["missing_lines"] == []

    # Done orders keep no pending state, only their outcome marker; no deadline is left pending.
    for order_id, outcome in [("o-ok", "completed"), ("o-declined", "completed"), ("o-oos", "completed"),
                              ("o-fraud", "completed"), ("o-missing", "alerted"), ("o-nohead", "alerted")]:
        state = await app.state(f"orders/order/{order_id}")
        assert set(state) == {"done"}, (order_id, state)
        assert state["done"]["value"] == outcome
        assert state["done"]["expires_at"] is not None
    assert (await app.admin_get("/metrics.json"))["delayed_pending"] == 0

    # Late events change nothing and say so: no new order, no second alert or completion.
    await send_event(app, Event(line("o-ok", 1), binary=True))
    await send_event(app, Event(header("o-nohead", 1), binary=False))
    ignored = {r["order_id"]: r for r in await take_records(app, TOPIC_IGNORED, 2)}
    assert ignored["o-ok"]["outcome"] == "completed"
    assert ignored["o-ok"]["typename"] == "type.googleapis.com/orders.OrderLine"
    assert ignored["o-ok"]["reason"] == "late event: the order is already completed"
    assert ignored["o-nohead"]["outcome"] == "alerted"
    assert set(await app.state("orders/order/o-ok")) == {"done"}
    assert (await app.admin_get("/metrics.json"))["delayed_pending"] == 0
    for topic in (TOPIC_COMPLETED, TOPIC_INCOMPLETE, TOPIC_FULFILLMENT, TOPIC_IGNORED):
        assert await app.take(topic, wait=0) is None, f"unexpected record on {topic}"


async def test_completion_cancels_the_deadline(orders_app):
    app = orders_app
    await send_event(app, Event(line("o-1", 1), binary=False))
    await eventually(lambda: _delayed_pending(app, 1))
    await send_event(app, Event(header("o-1", 1), binary=False))
    assert len(await take_records(app, TOPIC_COMPLETED, 1)) == 1
    # Cancelled at completion, not left to fire.
    assert (await app.admin_get("/metrics.json"))["delayed_pending"] == 0
    await pass_the_deadline(app)
    await app.runtime.until_idle(10)
    assert await app.take(TOPIC_INCOMPLETE, wait=0) is None


async def _delayed_pending(app, count: int) -> bool:
    return (await app.admin_get("/metrics.json"))["delayed_pending"] == count


async def test_unreadable_events_are_reported_not_retried(orders_app):
    app = orders_app
    assert await app.send("orders/order/o-bad", b"{not json", "application/vnd.orders/OrderHeader") == 202
    assert await app.send("orders/order/o-bad", b"hello") == 202  # io.statefun.types/string
    body = json.dumps({"orderId": "o-other", "lineNo": 1, "sku": "MUG-04", "quantity": 1}).encode()
    assert await app.send("orders/order/o-bad", body, "application/vnd.orders/OrderLine") == 202
    reasons = [r["reason"] for r in await take_records(app, TOPIC_IGNORED, 3)]
    assert reasons[0].startswith("malformed JSON for orders/OrderHeader")
    assert reasons[1].startswith("unknown message type")
    assert reasons[2].startswith("order_id 'o-other' contradicts the address id")
    assert await app.state("orders/order/o-bad") == {}
    assert await app.admin_get("/parked") == []


async def test_lines_that_fail_a_rule_are_dead_lettered_before_the_function(orders_app):
    """module.yaml's rules: a line with quantity 0 or a malformed SKU goes to orders-rejected."""
    app = orders_app
    await send_event(app, Event(line("o-dq", 1, quantity=0), binary=True))
    await send_event(app, Event(line("o-dq", 2, sku="mug-04"), binary=False))
    await send_event(app, Event(line("o-dq", 3, sku="OOS-MUG-04"), binary=False))  # a known SKU
    records = await take_records(app, TOPIC_REJECTED, 2)
    assert [(r["rule"], r["target"]) for r in records] == [
        ("positive-quantity", "orders/order/o-dq"), ("sku-format", "orders/order/o-dq"),
    ]
    assert records[1]["json"]["sku"] == "mug-04"
    await eventually(lambda: app.runtime.backlog(Address("orders", "order", "o-dq")) == 0)
    metrics = (await app.admin_get("/metrics.json"))["rules"]
    assert metrics["positive-quantity"] == {"checked": 3, "failed": 1}
    assert metrics["sku-format"] == {"checked": 3, "failed": 1}
    assert app.runtime.metrics.of(TypeName("orders", "order")).messages_in == 1
