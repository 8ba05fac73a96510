"""The runtime's public API (waiting without polling, status, operators) and its extension point."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Sequence
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from statefun import StatefulFunctions

from baton.module import load_module_text
from baton.module.kinds import WORKFLOW_KIND
from baton.module.specs import (
    HttpEndpointSpec,
    ModuleSpec,
    TargetFunctions,
    TypeName,
)
from baton.runtime import Address, Listener, Message, Runtime, RuntimeAPI
from baton.testing import VirtualClock
from tests.conftest import RunningApp, playground_module
from tests.runtime.test_python_sdk import JSON, canceller_functions, emit


def _message(address: str, body: dict) -> Message:
    return Message(Address.parse(address), None, JSON.typename, json.dumps(body).encode())


async def test_until_idle_waits_for_delayed_messages_only_when_asked(function_server, start_app):
    clock = VirtualClock()
    app = await start_app(playground_module(await function_server(canceller_functions())), clock=clock)
    runtime = app.runtime
    await runtime.ingest(_message("example/sched/a", {"op": "schedule", "ms": 1000, "label": "later"}))
    status = await runtime.until_idle(10)
    assert (status.queued, status.inflight, status.delayed, status.parked) == (0, 0, 1, 0)
    with_timers = asyncio.ensure_future(runtime.until_idle(10, timers=True))
    await clock.advance(timedelta(milliseconds=999))
    assert not with_timers.done()
    await clock.advance(timedelta(milliseconds=1))
    status = await with_timers
    assert (status.queued, status.inflight, status.delayed, status.parked) == (0, 0, 0, 0)
    assert await app.take("out", wait=0) == "later"


async def test_messages_at_a_parked_address_leave_the_runtime_idle(function_server, start_app):
    app = await start_app(playground_module(await function_server(canceller_functions())))
    runtime = app.runtime
    await runtime.ingest(_message("nowhere/thing/x", {}))  # no endpoint serves it: parked
    status = await runtime.until_idle(10, timers=True)
    assert (status.queued, status.parked, status.backlog) == (1, 1, {TypeName("nowhere", "thing"): 1})
    [(address, parked)] = runtime.parked().items()
    assert address == Address("nowhere", "thing", "x") and "no endpoint" in parked.reason
    assert runtime.dead_letter(address) is not None
    assert not runtime.parked() and runtime.status().queued == 0
    [letter] = runtime.dead_letters()
    assert letter.message.target == address and letter.reason == parked.reason


async def test_until_gives_up_after_its_timeout(function_server, start_app):
    app = await start_app(playground_module(await function_server(canceller_functions())))
    with pytest.raises(TimeoutError):
        await app.runtime.until(lambda: False, timeout=0.05)


def echo_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("ext/echo")
    async def echo(context, message):
        emit(context, "out", message.as_type(JSON)["text"])

    return functions


class EchoExtension:
    """Serves `ext/echo` from a URL of its own and answers `GET /echo` on the admin API."""

    kinds = frozenset({TypeName("ext.v1", "echo")})

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[str] = []

    def attach(self, module: ModuleSpec) -> ModuleSpec:
        endpoint = HttpEndpointSpec(TargetFunctions("ext", "echo"), self.url)
        return dataclasses.replace(module, endpoints=(endpoint, *module.endpoints))

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    def listeners(self) -> Sequence[Listener]:
        return [Listener("echo", self.url)]

    def admin_routes(self, runtime: RuntimeAPI) -> Sequence[web.RouteDef]:
        async def echo(_: web.Request) -> web.Response:
            return web.json_response({"serves": runtime.serves(TypeName("ext", "echo"))})

        return [web.get("/echo", echo)]


async def test_an_extension_adds_endpoints_admin_routes_and_listeners(function_server):
    extension = EchoExtension(await function_server(echo_functions()))
    module = load_module_text(playground_module("http://127.0.0.1:1/statefun"), "module.yaml")
    async with (
        aiohttp.ClientSession() as session,
        Runtime(module, admin_port=0, extensions=[extension]) as runtime,
    ):
        app = RunningApp(runtime, session)
        assert extension.events == ["start"]
        assert runtime.listeners[0] == Listener("echo", extension.url)  # before the runtime's own
        assert await app.admin_get("/echo") == {"serves": True}
        await runtime.ingest(_message("ext/echo/a", {"text": "hi"}))
        assert await app.take("out") == "hi"
    assert extension.events == ["start", "stop"]


async def test_documents_no_extension_serves_are_reported(caplog):
    module = load_module_text(
        "kind: baton.workflows.v1/workflow\nspec:\n  id: w/flow\n"
        "  definition: {StartAt: P, States: {P: {Type: Pass, End: true}}}\n",
        "module.yaml",
    )
    with caplog.at_level(logging.WARNING):
        Runtime(module, admin_port=None)
    assert f"module documents of kind {WORKFLOW_KIND} are not served" in caplog.text


async def test_without_workflows_the_admin_api_lists_none(function_server, start_app):
    app = await start_app(playground_module(await function_server(canceller_functions())))
    assert await app.admin_get("/workflows") == []
    assert not any(listener.component.startswith("workflow") for listener in app.runtime.listeners)
