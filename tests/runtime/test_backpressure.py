"""Backpressure (statefun-reference must-have 21): ingress waits, nothing is dropped."""

from __future__ import annotations

import asyncio
import json

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.module import load_module_text
from baton.runtime import Address, Limits, Message, Runtime
from tests.conftest import eventually, playground_module
from tests.runtime.test_python_sdk import JSON


def gated_counter(gate: asyncio.Event) -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/gated", specs=[ValueSpec("count", IntType)])
    async def gated(context, message):
        await gate.wait()
        context.storage.count = (context.storage.count or 0) + 1

    return functions


def _message(id_: str) -> Message:
    return Message(Address("example", "gated", id_), None, JSON.typename, json.dumps({}).encode())


async def _count(runtime: Runtime, id_: str) -> int:
    stored = runtime.state(Address("example", "gated", id_)).get("count")
    return IntType.serializer().deserialize(stored.value) if stored else 0


async def test_a_full_backlog_pauses_ingress_until_the_batch_returns(function_server):
    gate = asyncio.Event()
    url = await function_server(gated_counter(gate))
    yaml = playground_module(url, endpoint="maxNumBatchRequests: 3")
    async with Runtime(load_module_text(yaml, "module.yaml"), admin_port=None) as runtime:
        await runtime.ingest(_message("a"))  # in flight, held at the gate
        await eventually(lambda: runtime.status().inflight == 1)
        await runtime.ingest(_message("a"), _message("a"))  # 3 messages for "a": the limit
        paused = asyncio.create_task(runtime.ingest(_message("a"), _message("b")))
        await asyncio.sleep(0.05)  # the scenario: ingress keeps trying while "a" is full
        assert not paused.done() and runtime.status().queued == 3  # nothing more got in
        gate.set()
        await asyncio.wait_for(paused, 10)
        await runtime.until_idle(10)
        assert await _count(runtime, "a") == 4 and await _count(runtime, "b") == 1


async def test_too_many_batches_in_flight_pause_ingress(function_server):
    gate = asyncio.Event()
    url = await function_server(gated_counter(gate))
    module = load_module_text(playground_module(url), "module.yaml")
    async with Runtime(module, admin_port=None, limits=Limits(max_inflight=2)) as runtime:
        await runtime.ingest(_message("x"), _message("y"))  # two addresses in flight: the limit
        paused = asyncio.create_task(runtime.ingest(_message("z")))
        await eventually(lambda: runtime.status().inflight == 2)
        await asyncio.sleep(0.05)  # the scenario: ingress keeps trying while both are busy
        assert not paused.done() and runtime.status().queued == 2
        gate.set()
        await asyncio.wait_for(paused, 10)
        await runtime.until_idle(10)
        assert [await _count(runtime, i) for i in "xyz"] == [1, 1, 1]
