"""The example's functions and module.yaml on a real runtime, every port a free loopback one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from baton.runtime import Runtime
from baton.runtime.sqlite_store import SqliteStore
from baton.testing import VirtualClock
from baton.workflows.host import workflow_host
from functions import orders
from functions.app import functions
from functions.demo import example_module
from functions.stream import Event
from tests.conftest import RunningApp


@pytest.fixture
async def orders_app(function_server, tmp_path) -> AsyncIterator[RunningApp]:
    """module.yaml (endpoint, playground, the fulfillment workflow) + functions/, on free ports.

    Composed like `baton run`, but on a virtual clock: an order's deadline (ORDER_DEADLINE_MS,
    3 s by default) passes only when a test advances `app.runtime.clock`, never by waiting.
    """
    clock = VirtualClock()
    url = await function_server(functions)
    module = example_module(function_url=url, ingress_port=0, egress_port=0)
    runtime = Runtime(
        module, SqliteStore(tmp_path / "data"), admin_port=0, clock=clock,
        extensions=[workflow_host(module, now=clock.now)],
    )
    await runtime.start()
    session = aiohttp.ClientSession()
    try:
        yield RunningApp(runtime, session)
    finally:
        await session.close()
        await runtime.stop()


async def pass_the_deadline(app: RunningApp) -> None:
    """Once every accepted event is applied (each order's deadline scheduled), let it pass."""
    await app.runtime.until_idle(10)
    clock = app.runtime.clock
    assert isinstance(clock, VirtualClock)
    await clock.advance(timedelta(milliseconds=orders.DEADLINE_MS))


async def send_event(app: RunningApp, event: Event) -> None:
    status = await app.send(event.path, event.body, event.content_type)
    assert status == 202, f"{event.path}: {status}"


async def take_records(app: RunningApp, topic: str, count: int, timeout: float = 20.0) -> list[dict]:
    """Exactly `count` records of a topic (parsed JSON payloads), waiting up to `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    records = []
    while len(records) < count:
        remaining = deadline - loop.time()
        assert remaining > 0, f"{topic}: {len(records)} of {count} records within {timeout}s: {records}"
        payload = await app.take(topic, wait=min(remaining, 5.0))
        if payload is not None:
            records.append(json.loads(payload))
    return records
