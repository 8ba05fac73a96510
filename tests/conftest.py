"""Shared fixtures: real aiohttp function servers and real runtimes on loopback ports."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from statefun import StatefulFunctions

from baton.module import load_module_text
from baton.runtime import Runtime
from baton.serve import function_app
from baton.workflows.host import workflow_host
from tests.aws_support import moto_url as moto_url  # one moto server for the session's AWS tests

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]  # runs example test files in-process (tests/testing/test_readme.py)


def free_port() -> int:
    """A loopback port free right now (for servers whose port must be known before they start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start an aiohttp app on a free loopback port; return its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def function_server() -> AsyncIterator[Callable[[StatefulFunctions], Awaitable[str]]]:
    """Serve SDK functions over real HTTP; returns the `/statefun` URL."""
    runners: list[web.AppRunner] = []

    async def start(functions: StatefulFunctions) -> str:
        runner, url = await serve_app(function_app(functions))
        runners.append(runner)
        return f"{url}/statefun"

    yield start
    for runner in runners:
        await runner.cleanup()


class RunningApp:
    """A started runtime plus HTTP helpers for its playground ingress, egress and admin API."""

    def __init__(self, runtime: Runtime, session: aiohttp.ClientSession) -> None:
        self.runtime = runtime
        self.session = session
        self.ingress = runtime.url_of("ingress")
        self.egress = runtime.url_of("egress")
        self.admin = runtime.url_of("admin")

    async def send(
        self, path: str, body: bytes | str, content_type: str = "application/vnd.example/Json"
    ) -> int:
        async with self.session.put(
            f"{self.ingress}/{path}", data=body, headers={"Content-Type": content_type}
        ) as response:
            return response.status

    async def take(self, topic: str, wait: float = 10.0) -> str | None:
        """Take one egress record, waiting up to `wait` seconds; None when none came."""
        async with self.session.get(f"{self.egress}/{topic}", params={"wait": str(wait)}) as r:
            if r.status == 404:
                return None
            assert r.status == 200, await r.text()
            return await r.text()

    async def admin_get(self, path: str) -> object:
        async with self.session.get(f"{self.admin}{path}") as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def admin_post(self, path: str) -> tuple[int, str]:
        async with self.session.post(f"{self.admin}{path}") as response:
            return response.status, await response.text()

    async def state(self, address: str) -> dict:
        return (await self.admin_get(f"/state/{address}"))["state"]  # type: ignore[index]


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[..., Awaitable[RunningApp]]]:
    """Start a runtime from module.yaml text (use port 0 for the playground servers).

    Composed like `baton run`: with the workflow host as its extension.
    """
    runtimes: list[Runtime] = []
    session = aiohttp.ClientSession()

    async def start(module_yaml: str, **kwargs) -> RunningApp:
        module = load_module_text(module_yaml, "module.yaml")
        runtime = Runtime(module, admin_port=0, extensions=[workflow_host(module)], **kwargs)
        await runtime.start()
        runtimes.append(runtime)
        return RunningApp(runtime, session)

    yield start
    for runtime in runtimes:
        await runtime.stop()
    await session.close()


async def eventually(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 10.0
) -> None:
    """Wait until `predicate()` is true, failing after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


def playground_module(
    function_url: str,
    namespace: str = "example",
    extra: str = "",
    *,
    topics: tuple[str, ...] = ("greetings", "out", "events"),
    endpoint: str = "transport:\n    call: 2s",
) -> str:
    """A module.yaml with one v2 endpoint for `namespace/*` and playground ingress/egress."""
    return f"""
kind: io.statefun.endpoints.v2/http
spec:
  functions: {namespace}/*
  urlPathTemplate: {function_url}
  {endpoint}
---
kind: io.statefun.playground.v1/ingress
spec:
  port: 0
---
kind: io.statefun.playground.v1/egress
spec:
  port: 0
  topics: [{", ".join(topics)}]
{extra}
"""
