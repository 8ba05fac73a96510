"""What data-quality rules cost at ingress: three CEL rules per message against none, same run.

Run: `uv run python -m bench.rules [--messages N] [--rounds R]`. JSON order lines go through the
runtime's ingest API (where every ingress enters) to the SDK counter function in its own process,
until every message is applied; rounds alternate between a runtime without rules and one whose
`baton.rules.v1/rules` document checks each message with three rules, on the same store kind, so
load on the machine hits both alike. Also prints the rules' own CPU per message (no I/O).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time

from baton.module import load_module_text
from baton.module.specs import ModuleSpec
from baton.runtime import Address, Message, Runtime
from baton.runtime.metrics import Metrics
from baton.runtime.rules import IngressRules
from baton.runtime.sqlite_store import SqliteStore
from baton.runtime.store import MemoryStore
from bench.runtime import count_total, flood, module_for, start_counter_server

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


def with_rules(module: ModuleSpec) -> ModuleSpec:
    return ModuleSpec(endpoints=module.endpoints, rules=load_module_text(RULES, "bench").rules)


async def _rate(module: ModuleSpec, store, messages: int) -> float:
    runtime = Runtime(module, store, admin_port=None)
    await runtime.start()
    try:
        ids = [str(i) for i in range(1000)]
        await flood(runtime, ["warmup"], 200, payload=LINE)
        seconds = await flood(runtime, ids, messages, payload=LINE)
        assert count_total(runtime, ids) == messages, "lost or duplicated messages"
        checked = {name: m.checked for name, m in runtime.metrics.rules.items()}
        assert all(n == messages + 200 for n in checked.values()), checked
        return messages / seconds
    finally:
        await runtime.stop()


def rules_cpu(module: ModuleSpec, count: int = 30_000) -> float:
    """µs of CPU per message for checking three rules alone (decode + evaluate)."""
    rules = IngressRules(with_rules(module), Metrics(), MemoryStore(), None, None)  # type: ignore[arg-type]
    message = Message(Address("bench", "counter", "1"), None, *LINE)
    chunk = [message] * 500
    started = time.process_time()
    for _ in range(count // len(chunk)):
        assert len(rules.admit(chunk, None, None)) == len(chunk)
    return (time.process_time() - started) / count * 1e6


async def main_async(messages: int, rounds: int) -> None:
    server, url = await start_counter_server()
    try:
        plain = module_for(url)
        ruled = with_rules(plain)
        print(f"rules at ingress: {messages:,} JSON order lines per round, {rounds} rounds, "
              "counter function in its own process")
        print(f"three rules alone: {rules_cpu(plain):.1f} µs CPU per message")
        for label, store_factory in [("memory", lambda _: MemoryStore()), ("sqlite", SqliteStore)]:
            rates: dict[str, list[float]] = {"no rules": [], "3 rules": []}
            with tempfile.TemporaryDirectory() as tmp:
                for r in range(rounds):
                    for name, module in [("no rules", plain), ("3 rules", ruled)]:
                        store = store_factory(f"{tmp}/{name.replace(' ', '-')}-{r}")
                        rates[name].append(await _rate(module, store, messages))
            none, three = (statistics.median(rates[k]) for k in ("no rules", "3 rules"))
            print(f"{label:<7} no rules {none:>9,.0f} msg/s   3 rules {three:>9,.0f} msg/s   "
                  f"cost {(1 - three / none) * 100:+.1f}% (median of {rounds})", flush=True)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(args.messages, args.rounds))


if __name__ == "__main__":
    main()
