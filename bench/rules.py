"""What data-quality rules cost at ingress: three CEL rules per message against none, same run.

Run: `uv run python -m bench.rules [--messages N] [--rounds R]`. JSON order lines go to the SDK
counter function (its own process) until every one is applied, two ways:

- `http`: one PUT per message to the playground ingress (32 in flight), as clients send them;
- `batch`: chunks of 500 through the runtime's ingest API, as a Kafka poll hands them over (the
  cheapest ingress path per message, so the one where rules weigh most).

Rounds alternate between a runtime without rules and one whose `baton.rules.v1/rules` document
checks every message with three rules (two comparisons and a regex), each first in every other
round, so load on the machine hits both alike; figures are medians. Throughput on a shared
machine is noisy: the process CPU per message (runtime, plus the HTTP client for `http`; the
function server not included, so the relative cost is an upper bound) is the steadier figure.
Also prints the rules' own CPU per message with nothing else running.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable

import aiohttp
import psutil

from baton.module import load_module_text
from baton.module.specs import ModuleSpec
from baton.runtime import Address, Message, Runtime
from baton.runtime.metrics import Metrics
from baton.runtime.rules import IngressRules
from baton.runtime.sqlite_store import SqliteStore
from baton.runtime.store import MemoryStore
from bench.processes import counter_server, use_uvloop
from bench.runtime import count_total, flood, module_for

RULES = """
kind: baton.rules.v1/rules
spec:
  functionType: bench/counter
  messageType: bench/OrderLine
  rules:
    - {name: positive-quantity, expr: message.quantity > 0, onFailure: DLQ}
    - {name: sku-format, expr: "message.sku.matches('^[A-Z]{3}-[0-9]{3}$')", onFailure: DLQ}
    - {name: price-set, expr: message.unit_price_cents >= 0, onFailure: DLQ}
"""
LINE = ("bench/OrderLine", json.dumps(
    {"order_id": "o1", "line_no": 1, "sku": "ABC-123", "quantity": 2, "unit_price_cents": 1999}
).encode())
HTTP_IN_FLIGHT = 32
IDS = [str(i) for i in range(1000)]

Send = Callable[[Runtime, int], Awaitable[None]]


def with_rules(module: ModuleSpec) -> ModuleSpec:
    return ModuleSpec(
        endpoints=module.endpoints, ingresses=module.ingresses,
        rules=load_module_text(RULES, "bench").rules,
    )


async def send_batches(runtime: Runtime, messages: int) -> None:
    await flood(runtime, IDS, messages, payload=LINE)


async def send_http(runtime: Runtime, messages: int) -> None:
    url = runtime.url_of("ingress")
    headers = {"Content-Type": f"application/vnd.{LINE[0]}"}
    slots = asyncio.Semaphore(HTTP_IN_FLIGHT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=HTTP_IN_FLIGHT)) as session:

        async def put(i: int) -> None:
            try:
                async with session.put(f"{url}/bench/counter/{IDS[i % len(IDS)]}", data=LINE[1],
                                       headers=headers) as response:
                    assert response.status == 202, await response.text()
            finally:
                slots.release()

        tasks = []
        for i in range(messages):
            await slots.acquire()
            tasks.append(asyncio.create_task(put(i)))
        await asyncio.gather(*tasks)
    await runtime.until_idle()


async def one_round(module: ModuleSpec, store, send: Send, messages: int) -> tuple[float, float]:
    """(messages/s, µs of this process's CPU per message) for one run, every message applied."""
    runtime = Runtime(module, store, admin_port=None)
    await runtime.start()
    try:
        await flood(runtime, ["warmup"], 200, payload=LINE)
        before = {i: count_total(runtime, [i]) for i in IDS}
        cpu, started = time.process_time(), time.perf_counter()
        await send(runtime, messages)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        applied = sum(count_total(runtime, [i]) - before[i] for i in IDS)
        assert applied == messages, f"{applied} of {messages} messages applied"
        checked = {name: m.checked for name, m in runtime.metrics.rules.items()}
        assert all(n == messages + 200 for n in checked.values()), checked
        return messages / seconds, cpu / messages * 1e6
    finally:
        await runtime.stop()


def rules_cpu(module: ModuleSpec, count: int = 30_000) -> float:
    """µs of CPU per message for checking three rules alone (decode + evaluate)."""
    rules = IngressRules(with_rules(module), Metrics(), MemoryStore(), None, None)  # type: ignore[arg-type]
    chunk = [Message(Address("bench", "counter", "1"), None, *LINE)] * 500
    started = time.process_time()
    for _ in range(count // len(chunk)):
        assert len(rules.admit(chunk, None, None)) == len(chunk)
    return (time.process_time() - started) / count * 1e6


async def main_async(messages: int, rounds: int) -> None:
    with counter_server() as server:
        plain = module_for(server.url, playground_ingress=True)
        ruled = with_rules(plain)
        print(f"rules at ingress: {messages:,} JSON order lines per round, {rounds} rounds each, "
              f"alternating; counter function in its own process; {psutil.cpu_count()} cores")
        print(f"three rules alone (decode + evaluate, no I/O): {rules_cpu(plain):.1f} µs CPU per message")
        paths: list[tuple[str, Send]] = [("http", send_http), ("batch", send_batches)]
        stores = [("memory", lambda _: MemoryStore()), ("sqlite", SqliteStore)]
        for (path, send), (store_name, store_factory) in [(p, s) for p in paths for s in stores]:
            figures: dict[str, list[tuple[float, float]]] = {"none": [], "three": []}
            with tempfile.TemporaryDirectory() as tmp:
                for r in range(rounds):
                    order = [("none", plain), ("three", ruled)]
                    for name, module in order if r % 2 == 0 else order[::-1]:  # neither always second
                        gc.collect()  # the previous round's garbage is not this round's cost
                        store = store_factory(f"{tmp}/{name}-{r}")
                        figures[name].append(await one_round(module, store, send, messages))
            rate = {k: statistics.median(f[0] for f in v) for k, v in figures.items()}
            cpu = {k: statistics.median(f[1] for f in v) for k, v in figures.items()}
            label = f"{path}/{store_name}"
            print(f"{label:<13} throughput none {rate['none']:>7,.0f} msg/s   3 rules "
                  f"{rate['three']:>7,.0f} msg/s   cost {(1 - rate['three'] / rate['none']) * 100:+5.1f}%")
            print(f"{label:<13} CPU        none {cpu['none']:>7.1f} µs/msg  3 rules "
                  f"{cpu['three']:>7.1f} µs/msg  cost {(cpu['three'] / cpu['none'] - 1) * 100:+5.1f}%",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    use_uvloop()
    asyncio.run(main_async(args.messages, args.rounds))


if __name__ == "__main__":
    main()
