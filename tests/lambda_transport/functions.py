"""SDK functions and module documents shared by the Lambda transport tests."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from statefun import (
    IntType,
    StatefulFunctions,
    ValueSpec,
    egress_message_builder,
    make_json_type,
    message_builder,
)

if TYPE_CHECKING:  # handlers import this module in Lambda runtime processes: keep it light
    from tests.conftest import RunningApp

EGRESS_RECORD = make_json_type("io.statefun.playground/EgressRecord")
JSON = make_json_type("example/Json")

PLAYGROUND = """
---
kind: io.statefun.playground.v1/ingress
spec:
  port: 0
---
kind: io.statefun.playground.v1/egress
spec:
  port: 0
  topics: [out]
"""


def counter_functions() -> StatefulFunctions:
    """`example/counter` counts per id and forwards to `example/reporter`, which egresses."""
    functions = StatefulFunctions()

    @functions.bind("example/counter", specs=[ValueSpec("count", IntType)])
    async def counter(context, message):
        count = (context.storage.count or 0) + 1
        context.storage.count = count
        context.send(
            message_builder(
                target_typename="example/reporter",
                target_id=context.address.id,
                value={"id": context.address.id, "count": count},
                value_type=JSON,
            )
        )

    @functions.bind("example/reporter")
    async def reporter(context, message):
        caller = context.caller
        record = {
            **message.as_type(JSON),
            "caller": f"{caller.namespace}/{caller.name}/{caller.id}",
        }
        context.send_egress(
            egress_message_builder(
                target_typename="io.statefun.playground/egress",
                value={"topic": "out", "payload": json.dumps(record, sort_keys=True)},
                value_type=EGRESS_RECORD,
            )
        )

    return functions


async def assert_counter_flow(app: RunningApp, entity: str = "c1") -> None:
    """Three messages to one counter: state 1, 2, 3, forwarded to the reporter, egressed."""
    for _ in range(3):
        assert await app.send(f"example/counter/{entity}", "{}") == 202
    records = [json.loads(await app.take("out")) for _ in range(3)]
    assert records == [
        {"id": entity, "count": n, "caller": f"example/counter/{entity}"} for n in (1, 2, 3)
    ]
    assert await app.take("out", wait=0) is None
    state = await app.state(f"example/counter/{entity}")
    assert state["count"]["value"] == 3
    assert (await app.admin_get("/parked")) == []


async def parked_reason(app: RunningApp, address: str) -> str:
    """Wait until `address` is parked; return the reason."""
    from tests.conftest import eventually

    async def parked() -> bool:
        return (await app.admin_get(f"/state/{address}"))["parked"] is not None

    await eventually(parked, timeout=20)
    return (await app.admin_get(f"/state/{address}"))["parked"]
