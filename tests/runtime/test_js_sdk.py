"""The embedded runtime driving functions written with the official JavaScript SDK.

`tests/js/functions.js` uses `apache-flink-statefun@3.3.0` (installed by `npm ci` in tests/js, which
`make setup` runs) exactly like the playground's javascript greeter, and is served by node on a free
loopback port. Everything crosses real HTTP: playground ingress → runtime → node → runtime → egress.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import playground_module

# Only conftest *fixtures* are used (start_app); nothing is imported from tests.conftest, so this
# module collects whether or not `tests` is importable as a package.
JS_DIR = Path(__file__).resolve().parent.parent / "js"
NODE = shutil.which("node")
STARTUP_DEADLINE = 15.0


@pytest.fixture
async def js_functions() -> AsyncIterator[str]:
    """Run `node tests/js/functions.js 0`; yield its StateFun URL; terminate it afterwards."""
    if NODE is None:
        pytest.skip("node is not on PATH: the JavaScript SDK tests need node >= 18 (CI has it)")
    if not (JS_DIR / "node_modules" / "apache-flink-statefun").is_dir():
        pytest.fail("the JavaScript SDK is not installed: run `make setup` (or `cd tests/js && npm ci`)")

    process = await asyncio.create_subprocess_exec(
        NODE, str(JS_DIR / "functions.js"), "0",
        cwd=JS_DIR,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        try:
            line = await asyncio.wait_for(process.stdout.readline(), STARTUP_DEADLINE)
        except TimeoutError:
            line = b""
        words = line.decode().split()
        if len(words) != 2 or words[0] != "listening" or not words[1].isdigit():
            if process.returncode is None:
                process.kill()
            await process.wait()
            stderr = (await process.stderr.read()).decode(errors="replace")
            pytest.fail(
                f"node functions.js did not print 'listening <port>' within {STARTUP_DEADLINE}s "
                f"(got {line!r}, exit code {process.returncode}); stderr:\n{stderr}"
            )
        yield f"http://127.0.0.1:{int(words[1])}/statefun"
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


def module_yaml(function_url: str) -> str:
    """The official JS greeter's module.yaml (no `transport`: the async default) with free ports."""
    return playground_module(function_url, topics=("greetings", "out"), endpoint="")


async def take_json(app, topic: str) -> dict:
    record = await app.take(topic)
    assert record is not None, f"no record on topic {topic!r}"
    return json.loads(record)


async def test_js_greeter_counts_visits_forwards_and_egresses(js_functions, start_app):
    app = await start_app(module_yaml(js_functions))

    for name in ["Bob", "Alice", "Bob"]:
        status = await app.send(
            f"example/person/{name}",
            json.dumps({"name": name}),
            content_type="application/vnd.example/GreetRequest",
        )
        assert status == 202

    records = [await take_json(app, "greetings") for _ in range(3)]
    assert await app.take("greetings", wait=0.2) is None  # exactly three greetings

    # FIFO per address: Bob's two greetings come in order (Alice's may interleave anywhere).
    bob = [r for r in records if r["name"] == "Bob"]
    alice = [r for r in records if r["name"] == "Alice"]
    assert [r["visits"] for r in bob] == [1, 2]
    assert [r["visits"] for r in alice] == [1]  # state is per id
    # The first invocation saw no value (has_value=false → null in JS), the second saw int 1.
    assert [r["previous"] for r in bob] == [None, 1]
    assert bob[1]["greeting"] == "Hello Bob, I have seen you 2 time(s)"
    # The greeter was reached at example/greeter/<name>, called by example/person/<name>.
    for r in records:
        assert r["caller"] == f"example/person/{r['name']}"
        assert r["self"] == f"example/greeter/{r['name']}"

    state = await app.state("example/person/Bob")
    assert state["visits"]["typename"] == "io.statefun.types/int"
    assert state["visits"]["value"] == 2
    assert (await app.state("example/person/Alice"))["visits"]["value"] == 1
    assert "visits" not in await app.state("example/greeter/Bob")


async def test_js_delayed_message_fires_after_its_delay(js_functions, start_app):
    app = await start_app(module_yaml(js_functions))
    delay_ms = 500
    sent = time.time()
    command = {"op": "schedule", "ms": delay_ms, "label": "later"}
    assert await app.send("example/scheduler/d", json.dumps(command)) == 202

    record = await take_json(app, "out")
    waited = time.time() - sent
    assert record["label"] == "later"
    assert record["ms"] == delay_ms
    # Measured in node from the sendAfter call to the sink's invocation, and end to end here.
    assert record["elapsed"] >= delay_ms, record
    assert waited >= delay_ms / 1000
    # A delayed message comes from the function that scheduled it.
    assert record["caller"] == "example/scheduler/d"
    assert await app.take("out", wait=0.2) is None  # delivered exactly once


async def test_js_cancellation_before_the_delay_wins(js_functions, start_app):
    app = await start_app(module_yaml(js_functions))
    commands = [
        {"op": "schedule", "ms": 400, "token": "tok", "label": "cancelled"},
        {"op": "cancel", "token": "tok"},
        # A later sentinel: were the cancelled message still pending, it would arrive first.
        {"op": "schedule", "ms": 800, "label": "sentinel"},
    ]
    for command in commands:
        assert await app.send("example/scheduler/c", json.dumps(command)) == 202

    first = await take_json(app, "out")
    assert first["label"] == "sentinel", first
    assert first["elapsed"] >= 800
    assert await app.take("out", wait=0.2) is None
