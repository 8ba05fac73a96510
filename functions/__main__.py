"""Run the example end to end: function server, embedded runtime, a stream of events, a summary."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from baton.module import load_module
from baton.runtime import Runtime
from baton.serve import function_app
from functions.greeter import functions

NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"]
EVENTS = 2_000


async def main() -> None:
    module = load_module(Path(__file__).resolve().parent.parent / "module.yaml")
    runner = web.AppRunner(function_app(functions), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 8000).start()
    runtime = Runtime(module, admin_port=8081)
    for listener in await runtime.start():
        print(f"  {listener.component:<40} {listener.url}")
    started = time.perf_counter()
    rng = random.Random(7)
    expected: dict[str, int] = {}
    greetings = 0
    async with aiohttp.ClientSession() as session:
        for _ in range(EVENTS):
            name = rng.choice(NAMES)
            expected[name] = expected.get(name, 0) + 1
            async with session.put(
                f"{runtime.url_of('ingress')}/example/person/{name}",
                json={"name": name},
                headers={"Content-Type": "application/vnd.example/GreetRequest"},
            ) as response:
                response.raise_for_status()
        while greetings < EVENTS:
            async with session.get(f"{runtime.url_of('egress')}/greetings?wait=10") as response:
                if response.status == 404:
                    break
                greetings += 1
        elapsed = time.perf_counter() - started
        visits = {}
        for name in sorted(expected):
            async with session.get(f"{runtime.url_of('admin')}/state/example/person/{name}") as r:
                visits[name] = (await r.json())["state"]["visits"]["value"]
    await runtime.stop()
    await runner.cleanup()
    print(f"\n{EVENTS} greet requests → {greetings} greetings in {elapsed:.2f}s "
          f"({EVENTS / elapsed:,.0f} requests/s through the HTTP ingress)")
    for name, count in visits.items():
        mark = "ok" if count == expected[name] else f"MISMATCH (expected {expected[name]})"
        print(f"  {name:<6} visits={count:<5} {mark}")
    if greetings != EVENTS or any(visits[n] != expected[n] for n in expected):
        raise SystemExit("example failed: counts do not match")


if __name__ == "__main__":
    asyncio.run(main())
