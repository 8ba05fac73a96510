"""Batches that fit the call budget (issue 12, item 2)."""

from __future__ import annotations

import asyncio
import json

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.module import load_module_text
from baton.runtime import Address, Message, Runtime
from tests.conftest import playground_module
from tests.runtime.test_python_sdk import JSON

PER_MESSAGE_S = 0.01
MESSAGES = 100  # 1 s in one batch: twice the call timeout below


def slow_counter() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/slow", specs=[ValueSpec("count", IntType)])
    async def slow(context, message):
        await asyncio.sleep(PER_MESSAGE_S)
        context.storage.count = (context.storage.count or 0) + 1

    return functions


def _message(value: int) -> Message:
    return Message(Address("example", "slow", "a"), None, JSON.typename, json.dumps(value).encode())


async def test_a_backlog_longer_than_the_call_timeout_is_split_not_parked(function_server):
    url = await function_server(slow_counter())
    yaml = playground_module(
        url, endpoint="maxNumBatchRequests: 10000\n  transport:\n    call: 500ms"
    )
    async with Runtime(load_module_text(yaml, "module.yaml"), admin_port=None) as runtime:
        # All in one go: the first batch holds every message and outlasts the call timeout.
        await runtime.ingest(*(_message(i) for i in range(MESSAGES)))
        await runtime.until_idle(60)
        assert not runtime.parked()
        stored = runtime.state(Address("example", "slow", "a"))["count"].value
        assert IntType.serializer().deserialize(stored) == MESSAGES
        metrics = runtime.metrics.of(Address("example", "slow", "a").function_type)
        print(f"\n{MESSAGES} messages of {PER_MESSAGE_S * 1000:g} ms with a 500 ms call timeout: "
              f"{metrics.batches} batches")
        assert metrics.batches > 2  # sized to the budget, not one batch per message either
        assert metrics.batches < MESSAGES / 2


async def test_the_park_reason_says_the_batch_was_split(function_server):
    gate = asyncio.Event()  # never opened: every call times out
    functions = StatefulFunctions()

    @functions.bind("example/stuck")
    async def stuck(context, message):
        await gate.wait()

    url = await function_server(functions)
    yaml = playground_module(url, endpoint="maxNumBatchRequests: 100\n  transport:\n    call: 200ms")
    async with Runtime(load_module_text(yaml, "module.yaml"), admin_port=None) as runtime:
        target = Address("example", "stuck", "a")
        await runtime.ingest(*(Message(target, None, JSON.typename, b"{}") for _ in range(5)))
        await runtime.until(lambda: target in runtime.parked(), 30)
        reason = runtime.parked()[target].reason
        assert "a batch of 5 messages spent the call timeout of 0.2s" in reason
        assert "and so did its first message alone" in reason
        assert runtime.backlog(target) == 5  # nothing lost
        gate.set()
