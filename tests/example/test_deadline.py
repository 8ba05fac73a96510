"""The example's deadline alert, tested as a user of baton.testing would: the real module.yaml
and functions/ in-process, the order deadline (ORDER_DEADLINE_MS) passed on a virtual clock."""

from __future__ import annotations

from datetime import timedelta

from functions import orders
from functions.app import functions
from functions.messages import TOPIC_COMPLETED, TOPIC_INCOMPLETE
from functions.stream import GOOD_CARD
from proto.orders_pb2 import OrderHeader, OrderLine
from tests.conftest import ROOT

DEADLINE = timedelta(milliseconds=orders.DEADLINE_MS)
MS = timedelta(milliseconds=1)


async def test_the_alert_comes_exactly_at_the_deadline(baton_harness):
    h = await baton_harness(ROOT / "module.yaml", functions)
    await h.send("orders/order/o-1", OrderHeader(order_id="o-1", line_count=2, currency="EUR"))
    await h.send("orders/order/o-1", OrderLine(order_id="o-1", line_no=1, sku="MUG-04", quantity=1))
    await h.advance(DEADLINE - MS)
    assert await h.egress(TOPIC_INCOMPLETE) == []
    assert set(h.state("orders/order/o-1")) == {"pending"}
    await h.advance(MS)
    [alert] = [record.json() for record in await h.egress(TOPIC_INCOMPLETE)]
    assert (alert["order_id"], alert["missing_lines"]) == ("o-1", [2])
    assert h.state("orders/order/o-1") == {"done": "alerted"}
    # The done marker expires an hour after it was written, and the order id is free again.
    await h.advance(timedelta(hours=1))
    assert h.state("orders/order/o-1") == {}


async def test_an_order_completed_in_time_raises_no_alert_and_runs_its_workflow(baton_harness):
    h = await baton_harness(ROOT / "module.yaml", functions, auto=True)
    await h.send("orders/order/o-2", OrderLine(order_id="o-2", line_no=1, sku="MUG-04", quantity=1,
                                               unit_price_cents=1200))
    await h.advance(DEADLINE - MS)
    await h.send("orders/order/o-2", OrderHeader(order_id="o-2", customer_id="c-1", line_count=1,
                                                 card_number=GOOD_CARD, currency="EUR"))
    [completed] = await h.egress(TOPIC_COMPLETED, count=1)
    assert completed.json()["total_cents"] == "1200"
    fulfillment = await h.result("orders/fulfillment/o-2")
    assert fulfillment.status == "SUCCEEDED", fulfillment.error
    status = await h.until_idle(timers=True)  # nothing left to fire: the deadline was cancelled
    assert status.delayed == 0
    assert await h.egress(TOPIC_INCOMPLETE) == []
