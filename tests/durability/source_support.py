"""What the Kafka and Kinesis source tests share: the functions they run, runtimes to run them on,
and what the crash tests need around a `baton run` child (a function server process, the file's
positions)."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from statefun import EgressMessage, IntType, StatefulFunctions, ValueSpec

from baton.module import load_module_text
from baton.runtime import Address, Runtime
from baton.runtime.sqlite_store import SqliteStore
from baton.runtime.store import Store
from baton.serve.http import serve_functions, stop_signalled
from tests.conftest import ROOT, eventually


def recording_functions(
    seen: list[tuple[str, str, str]], typename: str | None = None
) -> StatefulFunctions:
    """Two function types that count their messages and note (type, id, value) as they come.

    With `typename`, each message is asserted to carry it (the source's `valueType`, verbatim).
    """
    functions = StatefulFunctions()

    def bind(name: str) -> None:
        @functions.bind(f"example/{name}", specs=[ValueSpec("count", IntType)])
        async def fn(context, message):
            if typename is not None:
                assert message.value_typename() == typename
            context.storage.count = (context.storage.count or 0) + 1
            seen.append((name, context.address.id, message.raw_value().decode(errors="replace")))

    bind("counter")
    bind("audit")
    return functions


def slow_functions() -> StatefulFunctions:
    """`slow/counter`: counts its messages, each taking longer than a stream takes to bring one."""
    functions = StatefulFunctions()

    @functions.bind("slow/counter", specs=[ValueSpec("n", IntType)])
    async def slow(context, message):
        await asyncio.sleep(0.002)  # a function slower than the stream
        context.storage.n = (context.storage.n or 0) + 1

    return functions


def running_total_functions(emit: Callable[[str, str], EgressMessage]) -> StatefulFunctions:
    """`crash/counter`, the function of the crash tests' workload (tests/durability/stream_workload.py).

    It adds each message's amount to the address's total and sends `emit(id, "<id>:<n>:<total>")`
    (n = messages so far) to its egress: a state effect applied twice or lost shows as a wrong,
    repeated or missing record.
    """
    functions = StatefulFunctions()

    @functions.bind("crash/counter", specs=[ValueSpec("total", IntType), ValueSpec("n", IntType)])
    async def counter(context, message):
        context.storage.total = (context.storage.total or 0) + int(message.raw_value())
        context.storage.n = (context.storage.n or 0) + 1
        key = context.address.id
        context.send_egress(emit(key, f"{key}:{context.storage.n}:{context.storage.total}"))

    return functions


async def serve_until_stopped(functions: StatefulFunctions) -> None:
    """Serve `functions` as `baton serve` does, on a free loopback port, and print `listening on
    <url>` (what `function_process` waits for), until the process is stopped."""
    server, url = await serve_functions(functions)
    print(f"listening on {url}", flush=True)
    try:
        await stop_signalled()
    finally:
        await server.close()


@asynccontextmanager
async def function_process(module: str) -> AsyncIterator[str]:
    """`python -m <module>` (one that ends in `serve_until_stopped`) running for the block; its URL."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(server.stdout.readline(), 20)
        yield line.decode().split("listening on ", 1)[1].strip()
    finally:
        server.terminate()
        await server.wait()


async def started_runtime(yaml_text: str, store: Store | None = None, **options: Any) -> Runtime:
    """A started runtime for the module text; no admin API unless `options` ask for one."""
    options.setdefault("admin_port", None)
    runtime = Runtime(load_module_text(yaml_text, "module.yaml"), store, **options)
    await runtime.start()
    return runtime


async def durable_runtime(tmp_path: Path, yaml_text: str, **options: Any) -> Runtime:
    """A started runtime for the module text, on a SQLite store under `tmp_path / "data"`."""
    return await started_runtime(yaml_text, SqliteStore(tmp_path / "data"), **options)


async def most_queued_until(runtime: Runtime, done: Callable[[], bool], timeout: float) -> int:
    """Wait until `done()`, noting the runtime's backlog at every check; the most it held."""
    most = 0

    def check() -> bool:
        nonlocal most
        most = max(most, runtime.status().queued)
        return done()

    await eventually(check, timeout)
    return most


def count(runtime: Runtime, type_: str, id_: str) -> int:
    """The `count` a recording function keeps at `example/<type_>/<id_>`."""
    stored = runtime.state(Address("example", type_, id_)).get("count")
    return IntType.serializer().deserialize(stored.value) if stored else 0


def durably_consumed(database: Path, source: str) -> int:
    """The records `source` has durably consumed, read from a baton's file (a SIGKILLed one's too).

    The sum of its stored positions: a Kafka position is the partition's next offset, and moto
    numbers each Kinesis shard's records 1, 2, ... A shard not read yet holds a word (`earliest`).
    """
    if not database.exists():
        return 0
    with closing(sqlite3.connect(database)) as db:
        try:
            rows = db.execute("SELECT position FROM source_positions WHERE source = ?", (source,)).fetchall()
        except sqlite3.OperationalError:  # baton has not created its tables yet
            return 0
    return sum(int(position) for (position,) in rows if position.isdigit())
