"""A saga's task functions (plain Python via baton.tasks) with a ledger of their effects.

Effects go to a SQLite ledger keyed by (execution, step), so a repeated call (function calls
are at-least-once) is applied once; `calls` counts every call. Run as a server for crash tests:
`python -m tests.workflows.saga --port 0 --ledger FILE`.
"""

from __future__ import annotations

import argparse
import sqlite3

from baton.tasks import Tasks

tasks = Tasks()
LEDGER = {"path": ":memory:"}


class PaymentDeclined(Exception):
    """The card was declined."""


class OutOfStock(Exception):
    """An item cannot be reserved."""


class CarrierUnavailable(Exception):
    """No carrier takes the parcel."""


def _record(step: str, order: dict) -> None:
    with sqlite3.connect(LEDGER["path"]) as db:
        db.execute("CREATE TABLE IF NOT EXISTS effects (execution TEXT, step TEXT, PRIMARY KEY (execution, step))")
        db.execute("CREATE TABLE IF NOT EXISTS calls (execution TEXT, step TEXT)")
        db.execute("INSERT INTO calls VALUES (?, ?)", (order["id"], step))
        db.execute("INSERT OR IGNORE INTO effects VALUES (?, ?)", (order["id"], step))


def ledger(path: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(effects, calls) recorded so far."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS effects (execution TEXT, step TEXT, PRIMARY KEY (execution, step))")
        db.execute("CREATE TABLE IF NOT EXISTS calls (execution TEXT, step TEXT)")
        return (db.execute("SELECT execution, step FROM effects ORDER BY rowid").fetchall(),
                db.execute("SELECT execution, step FROM calls ORDER BY rowid").fetchall())


@tasks.task("saga/charge")
async def charge(order: dict) -> dict:
    if order.get("card") == "declined":
        raise PaymentDeclined(f"card declined for {order['id']}")
    _record("charge", order)
    return {"charged": order["amount"]}


@tasks.task("saga/reserve")
async def reserve(order: dict) -> dict:
    if order.get("stock") == "none":
        raise OutOfStock(f"nothing left for {order['id']}")
    _record("reserve", order)
    return {"reserved": True}


@tasks.task("saga/ship")
async def ship(order: dict) -> dict:
    if order.get("carrier") == "down":
        raise CarrierUnavailable("no carrier today")
    _record("ship", order)
    return {"tracking": f"TRK-{order['id']}"}


@tasks.task("saga/release")
async def release(order: dict) -> dict:
    _record("release", order)
    return {"released": True}


@tasks.task("saga/refund")
async def refund(order: dict) -> dict:
    _record("refund", order)
    return {"refunded": order["amount"]}


DEFINITION = """---
kind: baton.workflows.v1/workflow
spec:
  id: saga/order
  resultEgress: {egress: io.statefun.playground/egress, topic: results}
  definition:
    StartAt: Charge
    States:
      Charge:
        Type: Task
        Resource: saga/charge
        ResultPath: $.payment
        Catch: [{ErrorEquals: [PaymentDeclined], ResultPath: $.error, Next: Declined}]
        Next: Pause
      Pause: {Type: Wait, SecondsPath: $.pause, Next: Reserve}
      Reserve:
        Type: Task
        Resource: saga/reserve
        ResultPath: $.reservation
        Catch: [{ErrorEquals: [States.ALL], ResultPath: $.error, Next: Refund}]
        Next: Ship
      Ship:
        Type: Task
        Resource: saga/ship
        ResultPath: $.shipment
        Retry: [{ErrorEquals: [CarrierUnavailable], IntervalSeconds: 1, MaxAttempts: 1}]
        Catch: [{ErrorEquals: [States.ALL], ResultPath: $.error, Next: Release}]
        Next: Done
      Done: {Type: Succeed}
      Release: {Type: Task, Resource: saga/release, ResultPath: null, Next: Refund}
      Refund: {Type: Task, Resource: saga/refund, ResultPath: null, Next: Compensated}
      Compensated: {Type: Fail, Error: OrderCompensated, CausePath: $.error.Error}
      Declined: {Type: Fail, Error: PaymentDeclined, Cause: the card was declined}
"""


def main() -> None:
    from aiohttp import web

    from baton.serve import function_app

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ledger", required=True)
    args = parser.parse_args()
    LEDGER["path"] = args.ledger

    # run_app prints "======== Running on http://127.0.0.1:<port> ========" once listening.
    web.run_app(function_app(tasks.functions), host="127.0.0.1", port=args.port,
                access_log=None, print=lambda text: print(text, flush=True))


if __name__ == "__main__":
    main()
