"""The fulfillment tasks: plain functions, the same as Lambda handlers, each failure provokable by data."""

from __future__ import annotations

import pytest

from baton.module import load_module
from baton.serve.targets import function_types
from baton.workflows.module_kind import workflows_of
from functions import lambda_handlers
from functions.app import functions
from functions.stream import DECLINED_CARD, GOOD_CARD
from functions.tasks import FraudSuspected, OutOfStock, PaymentDeclined
from tests.conftest import ROOT

ORDER = {
    "order_id": "o-1", "customer_id": "c-1", "card_number": GOOD_CARD, "currency": "EUR",
    "total_cents": 2400, "lines": [{"line_no": 1, "sku": "MUG-04", "quantity": 2, "unit_price_cents": 1200}],
}


def test_every_task_the_workflow_names_is_served():
    (workflow,) = workflows_of(load_module(ROOT / "module.yaml"))
    resources = set()

    def walk(states):
        for state in states.values():
            if state["Type"] == "Task":
                resources.add(state["Resource"])
            for branch in state.get("Branches", ()):
                walk(branch["States"])

    walk(workflow.definition["States"])
    assert resources == {"orders/charge-payment", "orders/reserve-inventory", "orders/check-fraud",
                         "orders/ship", "orders/refund-payment", "orders/release-inventory"}
    assert resources | {"orders/order"} == set(function_types(functions))


def test_lambda_handlers_run_the_tasks_unchanged():
    assert lambda_handlers.charge_payment(ORDER, None) == {
        "charge_id": "ch-o-1", "amount_cents": 2400, "currency": "EUR"
    }
    assert lambda_handlers.reserve_inventory(ORDER, None) == {"reservation_id": "rsv-o-1", "items": 2}
    assert lambda_handlers.check_fraud(ORDER, None)["risk"] == "low"
    assert lambda_handlers.ship(ORDER, None)["tracking_id"] == "trk-o-1"
    paid = {**ORDER, "payment": {"charge_id": "ch-o-1", "amount_cents": 2400}}
    assert lambda_handlers.refund_payment(paid, None)["charge_id"] == "ch-o-1"
    assert lambda_handlers.release_inventory(ORDER, None) == {"released": "rsv-o-1"}


@pytest.mark.parametrize(
    ("handler", "change", "error", "message"),
    [
        (lambda_handlers.charge_payment, {"card_number": DECLINED_CARD}, PaymentDeclined,
         "card ending 0002 declined: insufficient funds"),
        (lambda_handlers.reserve_inventory,
         {"lines": [{"line_no": 1, "sku": "OOS-MUG-04", "quantity": 2, "unit_price_cents": 1}]},
         OutOfStock, "not in stock: OOS-MUG-04 x2"),
        (lambda_handlers.check_fraud, {"customer_id": "fraud-0042"}, FraudSuspected,
         "customer fraud-0042 is on the fraud watch list"),
    ],
)
def test_failures_are_injected_through_the_data(handler, change, error, message):
    with pytest.raises(error, match=message):
        handler({**ORDER, **change}, None)
