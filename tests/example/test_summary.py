"""The summary counts the records it is given, and reconciling finds every difference from the plan."""

from __future__ import annotations

import json

import pytest

from functions.demo import DATA_MARKER, fresh_data_dir
from functions.messages import (
    TOPIC_COMPLETED,
    TOPIC_FULFILLMENT,
    TOPIC_IGNORED,
    TOPIC_INCOMPLETE,
    TOPIC_REJECTED,
)
from functions.stream import PlannedOrder, generate, scenario_plan
from functions.summary import Outcomes, fulfillment_outcome, reconcile, summarize

CAUSES = {
    "PaymentDeclined": "card ending 0002 declined: insufficient funds; nothing charged",
    "OrderCompensated: OutOfStock":
        "OutOfStock: not in stock: OOS-MUG-04 x1; payment refunded, stock released",
    "OrderCompensated: FraudSuspected": "FraudSuspected: customer fraud-1 is on the fraud watch list; ...",
}


def records_for(order: PlannedOrder) -> list[tuple[str, str]]:
    """The records the example emits for an order that behaves as planned."""
    if order.expected.alerted:
        alert = {"order_id": order.order_id, "header_received": order.scenario != "missing-header"}
        rejected = {"rule": order.expected.dead_lettered, "target": f"orders/order/{order.order_id}"}
        return [(TOPIC_INCOMPLETE, json.dumps(alert))] + (
            [(TOPIC_REJECTED, json.dumps(rejected))] if order.expected.dead_lettered else []
        )
    total = sum(l.quantity * l.unit_price_cents for l in order.lines)
    completed = {"header": {"order_id": order.order_id}, "total_cents": str(total)}
    outcome = order.expected.fulfillment
    if outcome == "fulfilled":
        result = {"execution": order.order_id, "status": "SUCCEEDED", "output": {}}
    else:
        error = outcome.split(":")[0]
        result = {"execution": order.order_id, "status": "FAILED", "error": error, "cause": CAUSES[outcome]}
    return [(TOPIC_COMPLETED, json.dumps(completed)), (TOPIC_FULFILLMENT, json.dumps(result))]


def test_the_summary_counts_the_records():
    stream = generate(40, seed=3)
    records = [r for order in stream.orders for r in records_for(order)]
    records.append((TOPIC_IGNORED, json.dumps({"order_id": "o-0001", "outcome": "completed"})))
    summary = summarize(Outcomes.of(records))

    def count(topic, **fields):
        return sum(t == topic and all(json.loads(p).get(k) == v for k, v in fields.items())
                   for t, p in records)

    assert summary.completed == count(TOPIC_COMPLETED) > 0
    assert summary.alerted == count(TOPIC_INCOMPLETE) > 0
    assert summary.alerted_without_header == count(TOPIC_INCOMPLETE, header_received=False) > 0
    assert summary.orders == count(TOPIC_COMPLETED) + count(TOPIC_INCOMPLETE) == 40
    assert summary.fulfilled == count(TOPIC_FULFILLMENT, status="SUCCEEDED") > 0
    assert summary.fulfillment["PaymentDeclined"] == count(TOPIC_FULFILLMENT, error="PaymentDeclined") > 0
    compensated = [json.loads(p)["cause"].split(":")[0] for t, p in records
                   if t == TOPIC_FULFILLMENT and json.loads(p).get("error") == "OrderCompensated"]
    assert summary.fulfillment["OrderCompensated: OutOfStock"] == compensated.count("OutOfStock") > 0
    assert summary.fulfillment["OrderCompensated: FraudSuspected"] == compensated.count("FraudSuspected") > 0
    assert summary.failed == count(TOPIC_FULFILLMENT, status="FAILED")
    assert summary.ignored == count(TOPIC_IGNORED) == 1
    fulfilled_ids = {json.loads(p)["execution"] for t, p in records
                     if t == TOPIC_FULFILLMENT and json.loads(p)["status"] == "SUCCEEDED"}
    assert summary.revenue_cents == sum(
        int(json.loads(p)["total_cents"]) for t, p in records
        if t == TOPIC_COMPLETED and json.loads(p)["header"]["order_id"] in fulfilled_ids
    )
    assert reconcile(Outcomes.of(records), stream, late_events=1) == []


def test_reconciling_reports_every_difference():
    stream = generate(20, seed=5)
    records = [r for order in stream.orders for r in records_for(order)]
    ok = next(o for o in stream.orders if o.scenario == "ok")
    alerted = next(o for o in stream.orders if o.scenario == "missing-line")
    declined = next(o for o in stream.orders if o.scenario == "declined")

    without_ok_result = [r for r in records if not (r[0] == TOPIC_FULFILLMENT and ok.order_id in r[1])]
    assert reconcile(Outcomes.of(without_ok_result), stream) == [
        f"{ok.order_id} (ok): expected fulfilled, got no workflow result"
    ]
    wrong = [(t, p.replace('"PaymentDeclined"', '"OrderCompensated"')) if declined.order_id in p else (t, p)
             for t, p in records]
    assert reconcile(Outcomes.of(wrong), stream) == [
        f"{declined.order_id} (declined): expected PaymentDeclined, got OrderCompensated: card ending 0002 "
        "declined"
    ]
    extra_completion = [*records, (TOPIC_COMPLETED, json.dumps({"header": {"order_id": alerted.order_id}}))]
    assert reconcile(Outcomes.of(extra_completion), stream) == [
        f"{alerted.order_id} (missing-line): completed, but it lacks events"
    ]
    twice = [*records, records[0]]
    assert reconcile(Outcomes.of(twice), stream)[0].startswith("duplicate record")
    assert reconcile(Outcomes.of(records), stream, late_events=2) == [
        "2 late event(s) sent, 0 reported ignored"
    ]
    stranger = [*records, (TOPIC_INCOMPLETE, json.dumps({"order_id": "o-9999"}))]
    assert reconcile(Outcomes.of(stranger), stream) == ["alerted record for unknown order o-9999"]


def test_fulfillment_outcomes_name_the_reason():
    assert fulfillment_outcome({"status": "SUCCEEDED"}) == "fulfilled"
    declined = {"status": "FAILED", "error": "PaymentDeclined", "cause": "x: y"}
    assert fulfillment_outcome(declined) == "PaymentDeclined"
    assert fulfillment_outcome(
        {"status": "FAILED", "error": "OrderCompensated", "cause": CAUSES["OrderCompensated: OutOfStock"]}
    ) == "OrderCompensated: OutOfStock"
    assert fulfillment_outcome({"status": "TIMED_OUT"}) == "TIMED_OUT"


def test_every_scenario_is_planned_even_for_a_small_stream():
    import random

    plan = scenario_plan(8, random.Random(1))
    assert sorted(set(plan)) == sorted(["ok", "missing-line", "missing-header", "declined", "fraud",
                                        "out-of-stock", "zero-quantity", "bad-sku"])
    with pytest.raises(ValueError):
        scenario_plan(7, random.Random(1))


def test_the_stream_sends_lines_before_headers_and_drops_what_it_plans_to():
    stream = generate(50, seed=7)
    position = {id(e.message): i for i, e in enumerate(stream.events)}
    early_lines = 0
    for order in stream.orders:
        sent = [e for e in stream.events if e.order_id == order.order_id]
        headers = [e for e in sent if e.message is order.header]
        assert len(headers) == (0 if order.scenario == "missing-header" else 1)
        assert len(sent) - len(headers) == len(order.lines) - (order.scenario == "missing-line")
        if headers:
            early_lines += any(position[id(e.message)] < position[id(headers[0].message)]
                               for e in sent if e is not headers[0])
    assert early_lines > 5
    assert {e.binary for e in stream.events} == {True, False}


def test_the_data_dir_is_emptied_only_if_the_example_wrote_it(tmp_path):
    from baton.runtime.sqlite_store import SqliteStore, StoreError

    mine = tmp_path / "mine"
    fresh_data_dir(mine)
    SqliteStore(mine).close()
    fresh_data_dir(mine)
    assert not (mine / "baton.db").exists() and (mine / DATA_MARKER).exists()

    theirs = tmp_path / "theirs"
    SqliteStore(theirs).close()
    with pytest.raises(RuntimeError, match="did not write"):
        fresh_data_dir(theirs)
    assert (theirs / "baton.db").exists()

    SqliteStore(mine).close()
    busy = SqliteStore(mine)
    try:
        with pytest.raises(StoreError, match="in use"):
            fresh_data_dir(mine)
        assert (mine / "baton.db").exists()
    finally:
        busy.close()


def test_the_summary_counts_dead_lettered_lines_and_reconciles_them():
    stream = generate(40, seed=3)
    records = [r for order in stream.orders for r in records_for(order)]
    planned = [o for o in stream.orders if o.expected.dead_lettered]
    summary = summarize(Outcomes.of(records))
    assert summary.dead_lettered == {
        "positive-quantity": sum(o.scenario == "zero-quantity" for o in planned),
        "sku-format": sum(o.scenario == "bad-sku" for o in planned),
    }
    assert all(summary.dead_lettered.values())
    missing = planned[0]
    without = [r for r in records if not (r[0] == TOPIC_REJECTED and missing.order_id in r[1])]
    extra = (TOPIC_REJECTED, json.dumps({"rule": "sku-format", "target": "orders/order/o-0001x"}))
    assert reconcile(Outcomes.of([*without, extra]), stream) == [
        f"{missing.order_id} ({missing.scenario}): expected 1 line dead-lettered by rule "
        f"{missing.expected.dead_lettered}, got 0",
        "o-0001x: 1 line(s) dead-lettered by rule sku-format, none planned",
    ]
