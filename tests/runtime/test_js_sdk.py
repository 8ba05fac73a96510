"""The embedded runtime driving functions written with the official JavaScript SDK.

`tests/js/functions.js` uses `apache-flink-statefun@3.3.0` (installed by `npm ci` in tests/js, which
`make setup` runs) exactly like the playground's javascript greeter, and is served by node on a free
loopback port. Everything crosses real HTTP: playground ingress → runtime → node → runtime → egress.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from baton.module import load_module_text
from tests.conftest import playground_module

# Only conftest *fixtures* are used (start_app); nothing is imported from tests.conftest, so this
# module collects whether or not `tests` is importable as a package.
JS_DIR = Path(__file__).resolve().parent.parent / "js"
NODE = shutil.which("node")
STARTUP_DEADLINE = 15.0
JSON = "example/Json"  # the typename of the JSON commands functions.js reads


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


async def test_js_delayed_message_fires_after_its_delay(js_functions, baton_harness):
    """On baton.testing's virtual clock: not a millisecond early, exactly once, from its sender."""
    h = await baton_harness(load_module_text(module_yaml(js_functions)))
    await h.send("example/scheduler/d", {"op": "schedule", "ms": 500, "label": "later"}, type=JSON)
    await h.advance(timedelta(milliseconds=499))
    assert await h.egress("out") == []
    await h.advance(timedelta(milliseconds=1))
    [record] = [r.json() for r in await h.egress("out")]
    assert (record["label"], record["ms"]) == ("later", 500)
    # A delayed message comes from the function that scheduled it.
    assert record["caller"] == "example/scheduler/d"
    await h.until_idle(timers=True)
    assert await h.egress("out") == []  # delivered exactly once


async def test_js_cancellation_before_the_delay_wins(js_functions, baton_harness):
    h = await baton_harness(load_module_text(module_yaml(js_functions)))
    commands = [
        {"op": "schedule", "ms": 400, "token": "tok", "label": "cancelled"},
        {"op": "cancel", "token": "tok"},
        # A later sentinel: were the cancelled message still pending, it would arrive first.
        {"op": "schedule", "ms": 800, "label": "sentinel"},
    ]
    for command in commands:
        await h.send("example/scheduler/c", command, type=JSON)
    await h.until_idle(timers=True)
    assert [r.json()["label"] for r in await h.egress("out")] == ["sentinel"]
    assert h.now().timestamp() - h.runtime.started_at == pytest.approx(0.8, abs=1e-6)
