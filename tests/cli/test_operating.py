"""The first hour of operating an application: errors that say what happened, and the
commands that fix it (issue 11, items 4 and 5). A real runtime, functions over loopback HTTP,
the real CLI against the admin API."""

from __future__ import annotations

import asyncio
import json
import logging

from click.testing import CliRunner, Result
from statefun import IntType, StatefulFunctions, ValueSpec, make_json_type

from baton.cli import cli
from tests.conftest import playground_module

WORKFLOW = """
---
kind: baton.workflows.v1/workflow
spec:
  id: flows/echo
  definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
"""


async def _cli(app, *args: str) -> Result:
    """The CLI in a thread: the admin API it calls answers on this test's event loop."""
    return await asyncio.to_thread(CliRunner().invoke, cli, [*args, "--admin", app.admin])


def _flaky_then_hanging(release: asyncio.Event) -> StatefulFunctions:
    """Fails with a real error at first, then hangs: the call budget ends on a timeout."""
    functions = StatefulFunctions()
    calls = {"n": 0}

    @functions.bind("example/flaky", specs=[ValueSpec("n", IntType)])
    async def flaky(context, message):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("the ledger is locked")
        await release.wait()

    return functions


async def test_a_park_reason_names_the_real_error_not_the_last_timeout(start_app, function_server, caplog):
    release = asyncio.Event()
    url = await function_server(_flaky_then_hanging(release))
    app = await start_app(playground_module(url, endpoint="transport:\n    call: 1s"))
    caplog.set_level(logging.ERROR, logger="baton.serve.http")
    assert await app.send("example/flaky/a", "x", "application/vnd.example/Thing") == 202
    await app.runtime.until(lambda: bool(app.runtime.parked()), 20)
    reason = app.runtime.parked()[next(iter(app.runtime.parked()))].reason
    assert "RuntimeError: the ledger is locked" in reason, reason
    assert "TimeoutError" in reason  # what ended it, said after the cause
    # Two identical failures, one traceback.
    assert [r.exc_info is not None for r in caplog.records].count(True) == 1
    release.set()


async def test_json_without_a_type_is_refused_with_the_fix(start_app, function_server):
    app = await start_app(playground_module(await function_server(StatefulFunctions())))
    async with app.session.put(f"{app.ingress}/example/greeter/Bob", data='{"name": "Bob"}',
                               headers={"Content-Type": "application/json"}) as response:
        assert response.status == 415
        text = await response.text()
    assert "application/vnd.<namespace>/<Type>" in text and "baton.workflows/Start" in text
    async with app.session.post(f"{app.admin}/send/example/greeter/Bob", data="{}",
                                headers={"Content-Type": "application/json; charset=utf-8"}) as response:
        assert response.status == 415


async def test_baton_send_to_a_workflow_sends_json_input(start_app, function_server):
    app = await start_app(playground_module(await function_server(StatefulFunctions()), extra=WORKFLOW))
    sent = await _cli(app, "send", "flows/echo/e1", '{"order": 7}')
    assert sent.exit_code == 0, sent.output
    assert "baton.workflows/Start" in sent.output
    await app.runtime.until_idle(10)
    described = await _cli(app, "workflows", "describe", "flows/echo/e1")
    execution = json.loads(described.output)["execution"]
    assert execution["status"] == "SUCCEEDED" and execution["output"] == {"order": 7}
    listing = await app.admin_get("/workflows")
    [summary] = listing[0]["executions"]  # type: ignore[index]
    assert summary["stop_time"] is not None and summary["stop_time"] >= summary["start_time"]
    listed = await _cli(app, "workflows", "list")
    assert "SUCCEEDED" in listed.output and "started 20" in listed.output and "ran " in listed.output
    not_json = await _cli(app, "send", "flows/echo/e2", "not json")
    assert not_json.exit_code == 2 and "a workflow's input is JSON" in not_json.output


async def test_an_undeclared_topic_is_400_on_admin_and_playground(start_app, function_server):
    app = await start_app(playground_module(await function_server(StatefulFunctions())))
    async with app.session.get(f"{app.egress}/nope") as playground:
        assert playground.status == 400
    async with app.session.get(f"{app.admin}/egress/io.statefun.playground/egress/nope") as admin:
        assert admin.status == 400 and "declared topics: greetings" in await admin.text()
    followed = await asyncio.wait_for(_cli(app, "egress", "nope", "--follow"), 20)
    assert followed.exit_code == 1 and "unknown topic 'nope'" in followed.output


async def test_asking_about_an_unknown_type_leaves_no_metrics_row(start_app, function_server):
    app = await start_app(playground_module(await function_server(StatefulFunctions())))
    assert await app.send("nobody/serves/this", "x") == 404
    metrics = await app.admin_get("/metrics.json")
    assert "nobody/serves" not in metrics["functions"]  # type: ignore[index]


def _failing_until_fixed(fixed: dict[str, bool]) -> StatefulFunctions:
    functions = StatefulFunctions()
    order = make_json_type("example/Order")

    @functions.bind("example/order")
    async def handle(context, message):
        if not fixed["yes"]:
            raise RuntimeError("bug")
        context.send_egress(__import__("statefun").egress_message_builder(
            target_typename="io.statefun.playground/egress",
            value={"topic": "out", "payload": f"{context.address.id}:{message.as_type(order)['n']}"},
            value_type=make_json_type("io.statefun.playground/EgressRecord"),
        ))

    return functions


async def test_resume_all_and_resend_a_dead_letter(start_app, function_server):
    fixed = {"yes": False}
    url = await function_server(_failing_until_fixed(fixed))
    app = await start_app(playground_module(url, endpoint="transport:\n    call: 2s"))
    for who in ("a", "b", "c"):
        assert await app.send(f"example/order/{who}", '{"n": 1}', "application/vnd.example/Order") == 202
    await app.runtime.until(lambda: len(app.runtime.parked()) == 3, 20)
    moved = await _cli(app, "dead-letter", "example/order/c")
    assert moved.exit_code == 0, moved.output
    await app.runtime.until(lambda: len(app.runtime.parked()) == 2, 20)  # c had one message
    fixed["yes"] = True
    resumed = await _cli(app, "resume", "--all")
    assert resumed.exit_code == 0 and resumed.output.count("resumed ") == 2, resumed.output
    assert sorted([await app.take("out"), await app.take("out")]) == ["a:1", "b:1"]
    [letter] = [json.loads(line) for line in (await _cli(app, "dead-letters")).output.splitlines()]
    assert letter["index"] == 0 and letter["target"] == "example/order/c"
    resent = await _cli(app, "dead-letters", "--resend", "0")
    assert resent.exit_code == 0 and "re-sent dead letter 0 to example/order/c" in resent.output
    assert await app.take("out") == "c:1"
    again = await _cli(app, "dead-letters", "--resend", "0")
    assert again.exit_code == 1 and "re-sent already" in again.output
    assert (await _cli(app, "resume")).exit_code == 2


async def test_flow_lines_summarise_what_moved(start_app, function_server):
    from baton.runtime.flow_log import flow_lines

    url = await function_server(_failing_until_fixed({"yes": True}))
    app = await start_app(playground_module(url))
    before: dict = {}
    assert flow_lines(app.runtime, before) == []
    for n in range(3):
        assert await app.send("example/order/a", json.dumps({"n": n}), "application/vnd.example/Order") == 202
    await app.runtime.until_idle(10)
    [line] = flow_lines(app.runtime, before)
    assert line.startswith("example/order: 3 in, ") and "3 egress" in line
    assert flow_lines(app.runtime, before) == []  # nothing moved since
