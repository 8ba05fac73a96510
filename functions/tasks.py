"""The fulfillment workflow's tasks: plain Python functions, `async def task(input: dict) -> dict`.

`baton.tasks.Tasks` serves each as a StateFun function that answers the workflow's task requests;
a raised exception becomes a Step Functions error named after its class, which the workflow's
`Retry`/`Catch` match (see module.yaml). The same functions run on AWS Lambda unchanged
(functions/lambda_handlers.py).

Failures are injected through the data, deterministically, so every path can be provoked:

- card number 4000000000000002 (or ...0069) → `PaymentDeclined`
- a SKU starting with `OOS-` → `OutOfStock`
- a customer id starting with `fraud-` → `FraudSuspected`

Every effect here is keyed by the order id (charge, reservation, refund ids), so a task that runs
twice — StateFun calls are at-least-once — does the same thing twice, and releasing stock that was
never reserved is a no-op.
"""

from __future__ import annotations

from typing import Any

from baton.tasks import Tasks

tasks = Tasks()

DECLINED_CARDS = {
    "4000000000000002": "insufficient funds",
    "4000000000000069": "card expired",
}
OUT_OF_STOCK_PREFIX = "OOS-"
FRAUD_PREFIX = "fraud-"


class PaymentDeclined(Exception):
    """The card was declined (nothing was charged)."""


class OutOfStock(Exception):
    """A line's SKU cannot be reserved."""


class FraudSuspected(Exception):
    """The customer did not pass the fraud check."""


@tasks.task("orders/charge-payment")
async def charge_payment(order: dict[str, Any]) -> dict[str, Any]:
    card = order["card_number"]
    if card in DECLINED_CARDS:
        raise PaymentDeclined(f"card ending {card[-4:]} declined: {DECLINED_CARDS[card]}")
    return {
        "charge_id": f"ch-{order['order_id']}",
        "amount_cents": order["total_cents"],
        "currency": order["currency"],
    }


@tasks.task("orders/reserve-inventory")
async def reserve_inventory(order: dict[str, Any]) -> dict[str, Any]:
    missing = [f"{l['sku']} x{l['quantity']}" for l in order["lines"]
               if l["sku"].startswith(OUT_OF_STOCK_PREFIX)]
    if missing:
        raise OutOfStock(f"not in stock: {', '.join(missing)}")
    return {
        "reservation_id": f"rsv-{order['order_id']}",
        "items": sum(l["quantity"] for l in order["lines"]),
    }


@tasks.task("orders/check-fraud")
async def check_fraud(order: dict[str, Any]) -> dict[str, Any]:
    customer = order["customer_id"]
    if customer.startswith(FRAUD_PREFIX):
        raise FraudSuspected(f"customer {customer} is on the fraud watch list")
    return {"customer_id": customer, "risk": "low"}


@tasks.task("orders/ship")
async def ship(order: dict[str, Any]) -> dict[str, Any]:
    return {"tracking_id": f"trk-{order['order_id']}", "carrier": "baton-post"}


@tasks.task("orders/refund-payment")
async def refund_payment(order: dict[str, Any]) -> dict[str, Any]:
    payment = order.get("payment") or {}
    return {
        "refund_id": f"rf-{order['order_id']}",
        "charge_id": payment.get("charge_id"),
        "amount_cents": payment.get("amount_cents", 0),
    }


@tasks.task("orders/release-inventory")
async def release_inventory(order: dict[str, Any]) -> dict[str, Any]:
    # Idempotent: the reservation id is derived from the order, and releasing one that was never
    # made (the reservation itself failed, or has not happened yet) releases nothing.
    return {"released": f"rsv-{order['order_id']}"}
