"""A small shop for the console tests: state with a TTL, an address that parks, a workflow."""

from __future__ import annotations

from datetime import timedelta

from statefun import IntType, StatefulFunctions, ValueSpec, make_json_type

from baton.tasks import Tasks
from tests.conftest import playground_module

JSON = make_json_type("shop/Json")
FLAKY = {"failing": True}
CHARGES: dict[str, int] = {}


class CardTimeout(Exception):
    """The payment provider did not answer (retried by the workflow)."""


def shop_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("shop/cart", specs=[
        ValueSpec("cart", JSON, expire_after_write=timedelta(hours=1)),
        ValueSpec("updates", IntType),
    ])
    async def cart(context, message):
        context.storage.cart = message.as_type(JSON)
        context.storage.updates = (context.storage.updates or 0) + 1

    @functions.bind("shop/flaky", specs=[ValueSpec("seen", IntType)])
    async def flaky(context, message):
        if FLAKY["failing"]:
            raise RuntimeError("the inventory service is down")
        context.storage.seen = (context.storage.seen or 0) + 1

    tasks = Tasks(functions)

    @tasks.task("shop/charge")
    async def charge(order: dict) -> dict:
        CHARGES[order["id"]] = CHARGES.get(order["id"], 0) + 1
        if CHARGES[order["id"]] == 1:
            raise CardTimeout("no answer from the card network")
        return {"charged": order["total"]}

    @tasks.task("shop/ship")
    async def ship(order: dict) -> dict:
        return {"tracking": f"TRK-{order['id']}"}

    return functions


CHECKOUT = """---
kind: baton.workflows.v1/workflow
spec:
  id: shop/checkout
  definition:
    StartAt: Validate
    States:
      Validate:
        Type: Pass
        Parameters: {"id.$": "$.id", "total.$": "$.total"}
        Next: Charge
      Charge:
        Type: Task
        Resource: shop/charge
        ResultPath: $.payment
        Retry: [{ErrorEquals: [CardTimeout], IntervalSeconds: 1, MaxAttempts: 2}]
        Catch: [{ErrorEquals: [States.ALL], ResultPath: $.error, Next: Rejected}]
        Next: Big
      Big:
        Type: Choice
        Choices: [{Variable: $.total, NumericGreaterThan: 1000, Next: Review}]
        Default: Ship
      Review: {Type: Pass, Next: Ship}
      Ship:
        Type: Task
        Resource: shop/ship
        ResultPath: $.shipment
        End: true
      Rejected: {Type: Fail, Error: PaymentFailed}
"""


def shop_module(function_url: str) -> str:
    return playground_module(function_url, namespace="shop", endpoint="transport:\n    call: 300ms") + CHECKOUT
