"""What the Kafka and Kinesis ingress tests share: recording functions and a durable runtime."""

from __future__ import annotations

from pathlib import Path

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.module import load_module_text
from baton.runtime import Address, Runtime
from baton.runtime.sqlite_store import SqliteStore


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


async def durable_runtime(tmp_path: Path, yaml_text: str) -> Runtime:
    """A started runtime for the module text, on a SQLite store under `tmp_path / "data"`."""
    runtime = Runtime(load_module_text(yaml_text, "module.yaml"), SqliteStore(tmp_path / "data"), admin_port=None)
    await runtime.start()
    return runtime


def count(runtime: Runtime, type_: str, id_: str) -> int:
    """The `count` a recording function keeps at `example/<type_>/<id_>`."""
    stored = runtime.state(Address("example", type_, id_)).get("count")
    return IntType.serializer().deserialize(stored.value) if stored else 0
