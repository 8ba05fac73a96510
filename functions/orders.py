"""`orders/order`: assemble an order from its header and line events, whatever their order.

One instance per order id (the address id). Headers and lines arrive as separate change events
(as from CDC), in any order, each as protobuf or JSON (see functions/messages.py):

- The first event of an order stores it as *pending* and starts the order's deadline: a delayed
  message to itself (`ORDER_DEADLINE_MS`, default 3000) with a cancellation token.
- Each event updates the pending order (a later header or the same line again replaces the earlier
  one, as CDC updates do). Once the header has arrived and lines 1..line_count all have, the order
  is complete: the deadline is cancelled, a `CompletedOrder` goes to the `orders-completed` topic,
  and the order (as JSON) starts the fulfillment workflow `orders/fulfillment/<order id>`.
- If the deadline fires first, an `IncompleteOrderAlert` (what arrived, what is missing) goes to
  the `orders-incomplete` topic.

Either way the order is then *done*: its pending state is deleted and only a small marker remains
(`done` = "completed" or "alerted", expiring `ORDER_DONE_TTL_S` after it was written, default
one hour). Late events for a done order — a line re-sent by CDC, a header arriving after the
alert — change nothing: each produces an `IgnoredOrderEvent` on `orders-ignored` that says so,
rather than opening a new order that could only end in a false alert. After the marker expires
the order id is free again. Events that cannot be read (malformed JSON, an unknown type, an
`order_id` that contradicts the address) are reported on the same topic, never retried forever.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from google.protobuf import json_format
from statefun import StringType, ValueSpec, egress_message_builder, kafka_egress_message, message_builder

from baton.workflows.messages import EXECUTION_RESULT
from functions.messages import (
    EGRESS_RECORD,
    FULFILLMENT_INPUT,
    ORDER_DEADLINE,
    ORDER_HEADER,
    ORDER_HEADER_JSON,
    ORDER_LINE,
    ORDER_LINE_JSON,
    PENDING_ORDER,
    TOPIC_COMPLETED,
    TOPIC_IGNORED,
    TOPIC_INCOMPLETE,
    from_json,
    to_dict,
    to_json,
)
from proto.orders_pb2 import (
    CompletedOrder,
    IgnoredOrderEvent,
    IncompleteOrderAlert,
    OrderDeadline,
    OrderHeader,
    OrderLine,
)

ORDER_TYPE = "orders/order"
FULFILLMENT_TYPE = "orders/fulfillment"

DEADLINE_MS = int(os.environ.get("ORDER_DEADLINE_MS", "3000"))
DONE_TTL = timedelta(seconds=float(os.environ.get("ORDER_DONE_TTL_S", "3600")))
# Where outcomes go: the playground egress, or (`python -m functions --kafka`, env ORDER_EGRESS)
# a Kafka egress of that id, one Kafka topic per outcome topic, keyed by order id.
PLAYGROUND_EGRESS = "io.statefun.playground/egress"
EGRESS = os.environ.get("ORDER_EGRESS", PLAYGROUND_EGRESS)
DEADLINE_TOKEN = "order-deadline"  # tokens are scoped by the sender's id: one per order

SPECS = [
    ValueSpec("pending", PENDING_ORDER),
    ValueSpec("done", StringType, expire_after_write=DONE_TTL),
]


def order(context, message) -> None:
    """The `orders/order` function (official Python SDK)."""
    if message.is_type(EXECUTION_RESULT):
        return  # the workflow's reply to its starter; its result goes to orders-fulfillment
    if message.is_type(ORDER_DEADLINE):
        _deadline_fired(context, message.as_type(ORDER_DEADLINE))
        return
    order_id = context.address.id
    typename = message.value_typename()
    try:
        event = _read_event(message)
    except json_format.ParseError as error:
        _ignore(context, typename, f"malformed JSON for {typename}: {error}")
        return
    if event is None:
        _ignore(context, typename, "unknown message type; send an OrderHeader or an OrderLine "
                "(JSON as application/vnd.orders/OrderHeader, or serialized protobuf)")
        return
    if event.order_id and event.order_id != order_id:
        _ignore(context, typename, f"order_id {event.order_id!r} contradicts the address id; "
                "send each order's events to orders/order/<order_id>")
        return
    event.order_id = order_id
    done = context.storage.done
    if done is not None:
        _ignore(context, typename, f"late event: the order is already {done}", outcome=done)
        return

    now = _now_ms()
    pending = context.storage.pending
    if pending is None:
        pending = {"first_event_at_ms": now, "header": None, "lines": {}}
        context.send_after(
            timedelta(milliseconds=DEADLINE_MS),
            message_builder(
                target_typename=ORDER_TYPE, target_id=order_id,
                value=OrderDeadline(order_id=order_id, first_event_at_ms=now),
                value_type=ORDER_DEADLINE,
            ),
            cancellation_token=DEADLINE_TOKEN,
        )
    if isinstance(event, OrderHeader):
        pending["header"] = to_dict(event)
    else:
        pending["lines"][str(event.line_no)] = to_dict(event)

    completed = _completed(pending, now)
    if completed is None:
        context.storage.pending = pending
        return
    context.cancel_delayed_message(DEADLINE_TOKEN)
    _finish(context, "completed")
    _egress(context, TOPIC_COMPLETED, to_json(completed))
    context.send(
        message_builder(
            target_typename=FULFILLMENT_TYPE, target_id=order_id,
            value=fulfillment_input(completed), value_type=FULFILLMENT_INPUT,
        )
    )


def _read_event(message) -> OrderHeader | OrderLine | None:
    if message.is_type(ORDER_HEADER):
        return message.as_type(ORDER_HEADER)
    if message.is_type(ORDER_LINE):
        return message.as_type(ORDER_LINE)
    typename = message.value_typename()
    if typename == ORDER_HEADER_JSON:
        return from_json(OrderHeader, message.raw_value() or b"{}")
    if typename == ORDER_LINE_JSON:
        return from_json(OrderLine, message.raw_value() or b"{}")
    return None


def _completed(pending: dict[str, Any], now: int) -> CompletedOrder | None:
    """The CompletedOrder once the header and lines 1..line_count are in; else None."""
    if pending["header"] is None:
        return None
    header = json_format.ParseDict(pending["header"], OrderHeader())
    lines = pending["lines"]
    wanted = [str(n) for n in range(1, header.line_count + 1)]
    if any(n not in lines for n in wanted):
        return None
    completed = CompletedOrder(
        header=header, first_event_at_ms=pending["first_event_at_ms"], completed_at_ms=now
    )
    for n in wanted:  # lines beyond line_count are not part of the order
        completed.lines.append(json_format.ParseDict(lines[n], OrderLine()))
    completed.total_cents = sum(line.quantity * line.unit_price_cents for line in completed.lines)
    return completed


def fulfillment_input(completed: CompletedOrder) -> dict[str, Any]:
    """The fulfillment workflow's execution input: the order as plain JSON (numbers as numbers)."""
    header = completed.header
    return {
        "order_id": header.order_id,
        "customer_id": header.customer_id,
        "card_number": header.card_number,
        "currency": header.currency,
        "total_cents": completed.total_cents,
        "lines": [
            {"line_no": l.line_no, "sku": l.sku, "quantity": l.quantity,
             "unit_price_cents": l.unit_price_cents}
            for l in completed.lines
        ],
    }


def _deadline_fired(context, deadline: OrderDeadline) -> None:
    pending = context.storage.pending
    if pending is None or pending["first_event_at_ms"] != deadline.first_event_at_ms:
        return  # the order completed as its timer fired (the cancellation came too late)
    header = pending["header"]
    received = sorted(int(n) for n in pending["lines"])
    alert = IncompleteOrderAlert(
        order_id=context.address.id,
        header_received=header is not None,
        received_lines=received,
        first_event_at_ms=pending["first_event_at_ms"],
        deadline_ms=DEADLINE_MS,
    )
    if header is None:
        alert.reason = f"no header within {DEADLINE_MS} ms (lines received: {received or 'none'})"
    else:
        expected = int(header.get("line_count", 0))
        alert.expected_lines = expected
        alert.missing_lines.extend(n for n in range(1, expected + 1) if n not in received)
        alert.reason = (f"{len(alert.missing_lines)} of {expected} line(s) missing after "
                        f"{DEADLINE_MS} ms: {list(alert.missing_lines)}")
    _finish(context, "alerted")
    _egress(context, TOPIC_INCOMPLETE, to_json(alert))


def _finish(context, outcome: str) -> None:
    del context.storage.pending
    context.storage.done = outcome


def _ignore(context, typename: str, reason: str, outcome: str = "") -> None:
    event = IgnoredOrderEvent(
        order_id=context.address.id, typename=typename, reason=reason, outcome=outcome
    )
    _egress(context, TOPIC_IGNORED, to_json(event))


def _egress(context, topic: str, payload: str) -> None:
    if EGRESS != PLAYGROUND_EGRESS:
        context.send_egress(kafka_egress_message(
            typename=EGRESS, topic=topic, key=context.address.id, value=payload,
        ))
        return
    context.send_egress(
        egress_message_builder(
            target_typename=PLAYGROUND_EGRESS,
            value={"topic": topic, "payload": payload},
            value_type=EGRESS_RECORD,
        )
    )


def _now_ms() -> int:
    return int(time.time() * 1000)
