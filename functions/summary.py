"""What the example produced, computed from its egress records only, and checked against the plan."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from functions.messages import (
    TOPIC_COMPLETED,
    TOPIC_FULFILLMENT,
    TOPIC_IGNORED,
    TOPIC_INCOMPLETE,
    TOPIC_REJECTED,
)
from functions.stream import Stream

TOPICS = (TOPIC_COMPLETED, TOPIC_INCOMPLETE, TOPIC_FULFILLMENT, TOPIC_IGNORED, TOPIC_REJECTED)
_LISTED = (TOPIC_IGNORED, TOPIC_REJECTED)  # topics kept as lists, not by order id


def fulfillment_outcome(result: dict[str, Any]) -> str:
    """`fulfilled`, `PaymentDeclined`, or `OrderCompensated: <reason>` for a workflow result."""
    if result.get("status") == "SUCCEEDED":
        return "fulfilled"
    error = result.get("error") or str(result.get("status"))
    if error == "OrderCompensated":
        reason = str(result.get("cause") or "").split(":", 1)[0].strip()
        return f"{error}: {reason or 'unknown'}"
    return error


@dataclass(slots=True)
class Outcomes:
    """The example's egress records, parsed, by topic and order id."""

    completed: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerted: dict[str, dict[str, Any]] = field(default_factory=dict)
    fulfillment: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # dead-lettered by a rule
    duplicates: list[str] = field(default_factory=list)  # "<topic>: <order id>", never expected
    records: list[tuple[str, str]] = field(default_factory=list)  # (topic, payload) as taken

    @classmethod
    def of(cls, records: list[tuple[str, str]]) -> Outcomes:
        outcomes = cls()
        for topic, payload in records:
            outcomes.add(topic, payload)
        return outcomes

    def add(self, topic: str, payload: str) -> None:
        """Add one record as read from the playground egress (`GET /<topic>`)."""
        keyed = {
            TOPIC_COMPLETED: (self.completed, lambda r: r["header"]["order_id"]),
            TOPIC_INCOMPLETE: (self.alerted, lambda r: r["order_id"]),
            TOPIC_FULFILLMENT: (self.fulfillment, lambda r: r["execution"]),
        }
        if topic not in keyed and topic not in _LISTED:
            raise ValueError(f"not a topic of the example: {topic!r}")
        record = json.loads(payload)
        self.records.append((topic, payload))
        if topic in _LISTED:
            (self.ignored if topic == TOPIC_IGNORED else self.rejected).append(record)
            return
        records, key = keyed[topic]
        order_id = key(record)
        if order_id in records:
            self.duplicates.append(f"{topic}: {order_id}")
        records[order_id] = record

    def count(self, topic: str) -> int:
        return {
            TOPIC_COMPLETED: len(self.completed), TOPIC_INCOMPLETE: len(self.alerted),
            TOPIC_FULFILLMENT: len(self.fulfillment), TOPIC_IGNORED: len(self.ignored),
            TOPIC_REJECTED: len(self.rejected),
        }[topic]


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over the records (nothing else): what the printed summary shows."""

    completed: int
    alerted: int
    alerted_without_header: int
    fulfillment: dict[str, int]  # fulfillment_outcome → executions
    ignored: int
    revenue_cents: int  # of fulfilled orders
    dead_lettered: dict[str, int] = field(default_factory=dict)  # rule → order lines it rejected

    @property
    def orders(self) -> int:
        return self.completed + self.alerted

    @property
    def fulfilled(self) -> int:
        return self.fulfillment.get("fulfilled", 0)

    @property
    def failed(self) -> int:
        return sum(self.fulfillment.values()) - self.fulfilled


def summarize(outcomes: Outcomes) -> Summary:
    """Count the outcomes."""
    fulfillment = Counter(fulfillment_outcome(r) for r in outcomes.fulfillment.values())
    revenue = sum(
        int(outcomes.completed[order_id]["total_cents"])
        for order_id, result in outcomes.fulfillment.items()
        if fulfillment_outcome(result) == "fulfilled" and order_id in outcomes.completed
    )
    return Summary(
        completed=len(outcomes.completed),
        alerted=len(outcomes.alerted),
        alerted_without_header=sum(not a.get("header_received") for a in outcomes.alerted.values()),
        fulfillment=dict(sorted(fulfillment.items())),
        ignored=len(outcomes.ignored),
        revenue_cents=revenue,
        dead_lettered=dict(sorted(Counter(r["rule"] for r in outcomes.rejected).items())),
    )


def reconcile(outcomes: Outcomes, stream: Stream, late_events: int = 0) -> list[str]:
    """Every way the records differ from what the stream should have produced ([] if none)."""
    problems = [f"duplicate record {d}" for d in outcomes.duplicates]
    planned = {order.order_id: order for order in stream.orders}
    for name, records in (("completed", outcomes.completed), ("alerted", outcomes.alerted),
                          ("fulfillment", outcomes.fulfillment)):
        problems += [f"{name} record for unknown order {o}" for o in sorted(set(records) - set(planned))]
    for order_id, order in planned.items():
        expected = order.expected
        if expected.alerted:
            if order_id not in outcomes.alerted:
                problems.append(f"{order_id} ({order.scenario}): expected an alert, got none")
            if order_id in outcomes.completed:
                problems.append(f"{order_id} ({order.scenario}): completed, but it lacks events")
            if order_id in outcomes.fulfillment:
                problems.append(f"{order_id} ({order.scenario}): fulfilled, but it never completed")
            continue
        if order_id not in outcomes.completed:
            problems.append(f"{order_id} ({order.scenario}): expected a completed order, got none")
        if order_id in outcomes.alerted:
            problems.append(f"{order_id} ({order.scenario}): alerted, but all its events were sent")
        result = outcomes.fulfillment.get(order_id)
        got = fulfillment_outcome(result) if result is not None else "no workflow result"
        if got != expected.fulfillment:
            problems.append(f"{order_id} ({order.scenario}): expected {expected.fulfillment}, got {got}")
    problems += _dead_letter_problems(outcomes, stream)
    if len(outcomes.ignored) != late_events:
        problems.append(f"{late_events} late event(s) sent, {len(outcomes.ignored)} reported ignored")
    return problems


def _dead_letter_problems(outcomes: Outcomes, stream: Stream) -> list[str]:
    """Each planned bad line dead-lettered once, by its rule; nothing else dead-lettered."""
    got = Counter((r["target"].rsplit("/", 1)[-1], r["rule"]) for r in outcomes.rejected)
    problems = []
    planned = {o.order_id: o for o in stream.orders if o.expected.dead_lettered}
    for order_id, order in planned.items():
        count = got.pop((order_id, order.expected.dead_lettered), 0)
        if count != 1:
            problems.append(f"{order_id} ({order.scenario}): expected 1 line dead-lettered by rule "
                            f"{order.expected.dead_lettered}, got {count}")
    problems += [f"{order_id}: {n} line(s) dead-lettered by rule {rule}, none planned"
                 for (order_id, rule), n in sorted(got.items())]
    return problems
