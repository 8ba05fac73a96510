"""A saga (charge → reserve → ship, compensating with release and refund) on the embedded runtime."""

from __future__ import annotations

import json

import pytest
from statefun import StatefulFunctions, make_json_type, message_builder

from baton.module import load_module_text
from tests.conftest import playground_module
from tests.runtime.test_python_sdk import emit
from tests.workflows import saga

ORDER = make_json_type("saga/Order")


@pytest.fixture
async def saga_app(tmp_path, function_server, start_app):
    saga.LEDGER["path"] = str(tmp_path / "ledger.db")
    starter = StatefulFunctions()

    @starter.bind("client/starter")
    async def start_and_report(context, message):
        if message.is_type(ORDER):  # start an execution from a function ...
            order = message.as_type(ORDER)
            context.send(message_builder(target_typename="saga/order", target_id=order["id"],
                                         value=order, value_type=ORDER))
        else:  # ... and get its result back as a message
            emit(context, "out", json.loads(message.raw_value()))

    tasks_url = await function_server(saga.tasks.functions)
    starter_url = await function_server(starter)
    module = playground_module(tasks_url, namespace="saga").replace(
        "topics: [greetings, out, events]", "topics: [results, out]"
    ) + saga.DEFINITION + f"""---
kind: io.statefun.endpoints.v2/http
spec: {{functions: client/*, urlPathTemplate: "{starter_url}"}}
"""
    return await start_app(module)


async def _run(app, order: dict) -> dict:
    assert await app.send(f"saga/order/{order['id']}", json.dumps(order), "application/vnd.saga/Order") == 202
    return json.loads(await app.take("results"))


def _effects(execution: str) -> list[str]:
    effects, _ = saga.ledger(saga.LEDGER["path"])
    return [step for e, step in effects if e == execution]


async def test_happy_path_runs_every_step_once(saga_app):
    result = await _run(saga_app, {"id": "o1", "amount": 10, "pause": 0})
    assert result["status"] == "SUCCEEDED", result
    assert result["output"]["shipment"] == {"tracking": "TRK-o1"}
    assert result["output"]["payment"] == {"charged": 10}
    assert _effects("o1") == ["charge", "reserve", "ship"]


async def test_a_failing_ship_is_retried_then_compensated(tmp_path, baton_harness):
    """In-process on virtual time: an hour's Wait and the retry's 1 s interval take no real time."""
    saga.LEDGER["path"] = str(tmp_path / "ledger.db")
    module = load_module_text(
        playground_module("http://in-process.invalid/statefun", namespace="saga", topics=("results",))
        + saga.DEFINITION
    )
    h = await baton_harness(module, saga.tasks.functions, auto=True)
    order = {"id": "o2", "amount": 5, "pause": 3600, "carrier": "down"}
    execution = await h.result(await h.start_workflow("saga/order", "o2", order))
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "OrderCompensated", "CarrierUnavailable")
    assert _effects("o2") == ["charge", "reserve", "release", "refund"]
    _, calls = saga.ledger(saga.LEDGER["path"])
    assert calls.count(("o2", "ship")) == 0  # it raised before any effect, twice (one retry)
    history = [event["type"] for event in execution.history]
    assert history.count("TaskFailed") == 2 and "ExecutionFailed" in history
    assert execution.end_time - execution.start_time == 3600 + 1  # the pause, then the retry
    [result] = await h.egress("results")
    assert result.json()["execution"] == "o2"


async def test_out_of_stock_refunds_and_a_declined_card_compensates_nothing(saga_app):
    result = await _run(saga_app, {"id": "o3", "amount": 7, "pause": 0, "stock": "none"})
    assert (result["error"], result["cause"]) == ("OrderCompensated", "OutOfStock")
    assert _effects("o3") == ["charge", "refund"]
    result = await _run(saga_app, {"id": "o4", "amount": 7, "pause": 0, "card": "declined"})
    assert (result["status"], result["error"]) == ("FAILED", "PaymentDeclined")
    assert _effects("o4") == []


async def test_starting_the_same_execution_twice_runs_it_once(saga_app):
    assert (await _run(saga_app, {"id": "o5", "amount": 1, "pause": 0}))["status"] == "SUCCEEDED"
    await saga_app.send("saga/order/o5", json.dumps({"id": "o5", "amount": 1, "pause": 0}), "application/vnd.saga/Order")
    # A later execution's result: a second run of o5 would have finished (and reported) first.
    assert (await _run(saga_app, {"id": "o6", "amount": 1, "pause": 0}))["execution"] == "o6"
    assert _effects("o5") == ["charge", "reserve", "ship"]
    listing = await saga_app.admin_get("/workflows")
    assert {e["id"]: e["status"] for e in listing[0]["executions"]} == {"o5": "SUCCEEDED", "o6": "SUCCEEDED"}


async def test_an_execution_started_by_a_function_replies_to_it(saga_app):
    order = {"id": "o7", "amount": 3, "pause": 0}
    await saga_app.send("client/starter/c1", json.dumps(order), "application/vnd.saga/Order")
    reply = json.loads(await saga_app.take("out"))
    assert (reply["execution"], reply["status"]) == ("o7", "SUCCEEDED")
    assert reply["output"]["shipment"]["tracking"] == "TRK-o7"
    assert json.loads(await saga_app.take("results"))["execution"] == "o7"  # and the egress too
    # Starting it again from a function: the finished result comes back, nothing runs again.
    await saga_app.send("client/starter/c2", json.dumps(order), "application/vnd.saga/Order")
    again = json.loads(await saga_app.take("out"))
    assert again == reply and again["workflow"] == "saga/order"
    assert _effects("o7") == ["charge", "reserve", "ship"]


async def test_workflows_list_and_describe_from_the_cli(saga_app):
    import asyncio

    from click.testing import CliRunner

    from baton.cli import cli

    await _run(saga_app, {"id": "o8", "amount": 2, "pause": 0, "stock": "none"})

    def invoke(*args: str):
        return CliRunner().invoke(cli, [*args, "--admin", saga_app.admin])

    listed = await asyncio.to_thread(invoke, "workflows", "list")
    assert listed.exit_code == 0, listed.output
    assert "saga/order" in listed.output and "o8" in listed.output and "FAILED" in listed.output
    described = await asyncio.to_thread(invoke, "workflows", "describe", "saga/order/o8")
    assert described.exit_code == 0, described.output
    execution = json.loads(described.output)["execution"]
    assert (execution["status"], execution["error"]) == ("FAILED", "OrderCompensated")
    missing = await asyncio.to_thread(invoke, "workflows", "describe", "saga/order/nope")
    assert missing.exit_code == 1 and "no workflow execution at saga/order/nope" in missing.output
