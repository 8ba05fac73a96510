"""Admission: one slow or parked address never stalls the others (issue 12, item 1).

Bounds per address, per function type and for the runtime; HTTP ingress is refused at once
(429 / 503 with Retry-After), a pull source waits, messages between functions never wait.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from statefun import IntType, StatefulFunctions, ValueSpec, message_builder

from baton.module import load_module_text
from baton.runtime import Address, Limits, Message, Refused, Runtime
from tests.conftest import playground_module
from tests.runtime.test_python_sdk import JSON

HOT_SECONDS = 0.3  # what the flooded address's function takes per message
ACK_BOUND_S = 0.75  # every other address is acknowledged within this, while one is flooded


def slow_for_hot() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/counter", specs=[ValueSpec("count", IntType)])
    async def counter(context, message):
        if context.address.id == "hot":
            await asyncio.sleep(HOT_SECONDS)
        context.storage.count = (context.storage.count or 0) + 1

    return functions


async def _put(session: aiohttp.ClientSession, url: str) -> tuple[int, str | None, float]:
    started = time.perf_counter()
    async with session.put(url, data=b"{}", headers={"Content-Type": "application/vnd.example/Json"}) as r:
        await r.read()
        return r.status, r.headers.get("Retry-After"), time.perf_counter() - started


async def test_a_flooded_slow_address_gets_429_while_others_are_acknowledged(
    function_server, start_app
):
    url = await function_server(slow_for_hot())
    app = await start_app(playground_module(url, endpoint="maxNumBatchRequests: 5"))
    hot = f"{app.ingress}/example/counter/hot"
    stop = asyncio.Event()
    hot_answers: list[tuple[int, str | None, float]] = []

    async def flood() -> None:
        while not stop.is_set():
            hot_answers.extend(await asyncio.gather(*(_put(app.session, hot) for _ in range(10))))

    flooding = asyncio.create_task(flood())
    try:
        others = [await _put(app.session, f"{app.ingress}/example/counter/c-{i}") for i in range(40)]
    finally:
        stop.set()
        await flooding
    latencies = sorted(seconds for _, _, seconds in others)
    print(
        f"\nwhile example/counter/hot was flooded: {len(others)} other addresses acknowledged, "
        f"median {latencies[len(latencies) // 2] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms; "
        f"hot: {sum(s == 202 for s, _, _ in hot_answers)} accepted, "
        f"{sum(s == 429 for s, _, _ in hot_answers)} refused with 429"
    )
    assert {status for status, _, _ in others} == {202}
    assert latencies[-1] < ACK_BOUND_S
    refused = [(status, retry) for status, retry, _ in hot_answers if status != 202]
    assert refused and all(status == 429 and retry for status, retry in refused)
    # The flooded address never held more than its limit (5) and lost nothing it accepted.
    accepted = sum(status == 202 for status, _, _ in hot_answers)
    await app.runtime.until_idle(30)
    stored = app.runtime.state(Address("example", "counter", "hot"))["count"].value
    assert IntType.serializer().deserialize(stored) == accepted


def gated(gate: asyncio.Event) -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/gated", specs=[ValueSpec("count", IntType)])
    async def gated_fn(context, message):
        await gate.wait()
        context.storage.count = (context.storage.count or 0) + 1

    @functions.bind("example/fan")
    async def fan(context, message):
        for _ in range(10):
            context.send(message_builder(
                target_typename="example/gated", target_id="sink", value={}, value_type=JSON
            ))

    @functions.bind("other/quick")
    async def quick(context, message):
        pass

    return functions


def _to(type_: str, id_: str, namespace: str = "example") -> Message:
    return Message(Address(namespace, type_, id_), None, JSON.typename, json.dumps({}).encode())


def _module(url: str, batch: int = 2) -> str:
    return playground_module(url, endpoint=f"maxNumBatchRequests: {batch}") + f"""
---
kind: io.statefun.endpoints.v2/http
spec:
  functions: other/*
  urlPathTemplate: {url}
"""


async def test_a_pull_source_waits_for_a_full_address_but_not_for_the_others(function_server):
    gate = asyncio.Event()
    module = load_module_text(_module(await function_server(gated(gate))), "module.yaml")
    async with Runtime(module, admin_port=None) as runtime:
        await runtime.ingest(_to("gated", "a"), _to("gated", "a"))  # "a" at its limit (2)
        waiting = asyncio.create_task(runtime.ingest(_to("gated", "a")))
        await asyncio.wait_for(runtime.ingest(_to("gated", "b")), 5)  # not behind "a"
        with pytest.raises(Refused) as refused:
            await runtime.offer(_to("gated", "a"))
        assert refused.value.scope == "address" and refused.value.http_status == 429
        assert "maxNumBatchRequests: 2" in str(refused.value)
        assert not waiting.done()
        gate.set()
        await asyncio.wait_for(waiting, 10)
        await runtime.until_idle(10)
        assert runtime.backlog(Address("example", "gated", "a")) == 0


async def test_messages_between_functions_are_never_refused(function_server):
    gate = asyncio.Event()
    module = load_module_text(_module(await function_server(gated(gate))), "module.yaml")
    async with Runtime(module, admin_port=None) as runtime:
        await runtime.ingest(_to("fan", "x"))
        sink = Address("example", "gated", "sink")
        await runtime.until(lambda: runtime.backlog(sink) == 10, 10)  # five times its limit
        with pytest.raises(Refused):
            await runtime.offer(Message(sink, None, JSON.typename, b"{}"))
        gate.set()
        await runtime.until_idle(10)
        assert IntType.serializer().deserialize(runtime.state(sink)["count"].value) == 10


async def test_a_full_function_type_is_refused_and_other_types_are_not(function_server):
    gate = asyncio.Event()
    module = load_module_text(_module(await function_server(gated(gate))), "module.yaml")
    async with Runtime(module, admin_port=None, limits=Limits(max_queued_per_type=3)) as runtime:
        await runtime.offer(*(_to("gated", i) for i in "abc"))
        with pytest.raises(Refused) as refused:
            await runtime.offer(_to("gated", "d"))
        assert refused.value.scope == "function type" and refused.value.http_status == 429
        assert await runtime.offer(_to("quick", "d", namespace="other"))
        gate.set()
        await runtime.until_idle(10)


async def test_the_runtime_bound_answers_503(function_server):
    gate = asyncio.Event()
    module = load_module_text(_module(await function_server(gated(gate))), "module.yaml")
    async with Runtime(module, admin_port=None, limits=Limits(max_queued=2, max_queued_per_type=2)) as runtime:
        await runtime.offer(_to("gated", "a"), _to("quick", "b", namespace="other"))
        await runtime.until(lambda: runtime.status().queued == 1, 10)  # "b" done, "a" held
        await runtime.offer(_to("gated", "c"))
        with pytest.raises(Refused) as refused:
            await runtime.offer(_to("quick", "d", namespace="other"))
        assert refused.value.scope == "runtime" and refused.value.http_status == 503
        gate.set()
        await runtime.until_idle(10)


async def test_a_parked_address_accepts_up_to_its_bound_then_refuses_for_itself_only(start_app):
    app = await start_app(
        playground_module("http://127.0.0.1:9/unused", endpoint="transport:\n    call: 200ms"),
        limits=Limits(max_parked_backlog=3),
    )
    runtime = app.runtime
    parked = Address("example", "fn", "p")
    await runtime.ingest(Message(parked, None, JSON.typename, b"{}"))
    await runtime.until(lambda: parked in runtime.parked(), 30)  # the endpoint does not answer
    assert await app.send("example/fn/p", "{}") == 202
    assert await app.send("example/fn/p", "{}") == 202  # 3 kept, durably
    async with app.session.put(
        f"{app.ingress}/example/fn/p", data=b"{}", headers={"Content-Type": "application/vnd.example/Json"}
    ) as response:
        assert response.status == 429 and response.headers["Retry-After"]
        assert "parked" in await response.text()
    assert runtime.backlog(parked) == 3
    assert await runtime.offer(Message(Address("example", "fn", "q"), None, JSON.typename, b"{}"))
