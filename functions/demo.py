"""The example, end to end: function server, embedded runtime, a stream of events, a summary.

Everything talks over real loopback HTTP, as a user's own programs would: events go in through
the playground ingress, outcomes are taken from the playground egress, state is read through
the admin API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from baton.cli.admin_client import DEFAULT_ADMIN
from baton.module import (
    HttpEndpointSpec,
    ModuleSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
    load_module,
)
from baton.runtime import Runtime
from baton.runtime.sqlite_store import DB_NAME, SqliteStore
from baton.serve import function_app
from baton.workflows.host import workflow_host
from functions import orders as order_function
from functions.app import functions
from functions.messages import (
    TOPIC_COMPLETED,
    TOPIC_FULFILLMENT,
    TOPIC_IGNORED,
    TOPIC_INCOMPLETE,
    TOPIC_REJECTED,
)
from functions.stream import Event, Stream, generate, late_events
from functions.summary import TOPICS, Outcomes, Summary, reconcile, summarize

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "module.yaml"
DATA_MARKER = "written-by-the-example"


@dataclass(slots=True)
class Config:
    orders: int = 300
    seed: int = 7
    deadline_ms: int = order_function.DEADLINE_MS
    function_port: int | None = None  # None: the port of module.yaml's `orders/*` endpoint
    ingress_port: int | None = None  # None: as in module.yaml; 0: a free port
    egress_port: int | None = None
    admin_port: int = 8081
    data_dir: Path = ROOT / ".baton" / "example"
    concurrency: int = 32
    late_events: int = 3
    timeout_s: float = 60.0  # for the outcomes, after the deadline
    keep_running: bool = False
    kafka: bool = False  # events in and outcomes out on Kafka topics (a local broker is started)


@dataclass(slots=True)
class Report:
    """What one run observed; `problems` empty means the summary reconciles."""

    stream: Stream
    outcomes: Outcomes
    summary: Summary
    problems: list[str]
    listeners: dict[str, str]
    data_dir: Path
    events_sent: int = 0
    send_seconds: float = 0.0
    busy_seconds: float = 0.0  # first event sent → last completion or workflow result taken
    messages: int = 0  # messages the runtime delivered to functions (admin /metrics)
    state_cleared: int = 0  # orders whose pending state is gone and whose done marker is set
    state_problems: list[str] = field(default_factory=list)


def _serves_orders(spec) -> bool:
    return isinstance(spec, HttpEndpointSpec) and spec.functions.namespace == "orders"


def example_module(
    path: Path = MODULE, *, function_url: str | None = None,
    ingress_port: int | None = None, egress_port: int | None = None,
) -> ModuleSpec:
    """module.yaml with the `orders/*` endpoint and the playground ports moved (None: unchanged)."""
    module = load_module(path)

    def endpoint(spec):
        if function_url and _serves_orders(spec):
            return dataclasses.replace(spec, url_path_template=function_url)
        return spec

    def port(spec, kind, value):
        return dataclasses.replace(spec, port=value) if isinstance(spec, kind) and value is not None else spec

    return dataclasses.replace(
        module,
        endpoints=tuple(endpoint(e) for e in module.endpoints),
        ingresses=tuple(port(i, PlaygroundIngressSpec, ingress_port) for i in module.ingresses),
        egresses=tuple(port(e, PlaygroundEgressSpec, egress_port) for e in module.egresses),
    )


def fresh_data_dir(path: Path) -> None:
    """Empty the example's data dir (only one it wrote itself, and only while no baton uses it)."""
    if path.exists() and any(path.iterdir()):
        if not (path / DATA_MARKER).exists():
            raise RuntimeError(
                f"{path} holds data the example did not write; pass another --data-dir"
            )
        SqliteStore(path).close()  # raises StoreError while another baton uses the directory
        for suffix in ("", "-wal", "-shm"):
            (path / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    (path / DATA_MARKER).write_text("python -m functions empties this directory on its next run\n")


class Example:
    """A running example: function server + runtime, and HTTP helpers to drive them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.runtime: Runtime | None = None
        self._runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None
        self._deadline_ms = order_function.DEADLINE_MS

    async def start(self) -> dict[str, str]:
        config = self.config
        self._deadline_ms, order_function.DEADLINE_MS = order_function.DEADLINE_MS, config.deadline_ms
        fresh_data_dir(config.data_dir)
        port = config.function_port
        if port is None:  # where module.yaml says the functions are
            declared = next(filter(_serves_orders, load_module(MODULE).endpoints))
            port = urlsplit(declared.url_path_template).port
        self._runner = web.AppRunner(function_app(functions), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        host, port = self._runner.addresses[0][:2]
        function_url = f"http://{host}:{port}/statefun"
        module = self.module(function_url)
        self.runtime = Runtime(
            module, SqliteStore(config.data_dir), admin_port=config.admin_port,
            extensions=[workflow_host(module)],
        )
        await self.runtime.start()
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=config.concurrency + 8))
        return {"functions": function_url, **{ln.component: ln.url for ln in self.runtime.listeners}}

    def module(self, function_url: str) -> ModuleSpec:
        """The module to run: module.yaml with the function URL and ports of this run."""
        config = self.config
        return example_module(
            function_url=function_url, ingress_port=config.ingress_port, egress_port=config.egress_port
        )

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.runtime is not None:
            await self.runtime.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        order_function.DEADLINE_MS = self._deadline_ms

    def url(self, component: str) -> str:
        assert self.runtime is not None
        return self.runtime.url_of(component)

    async def send(self, events: Iterable[Event], on_sent=lambda: None) -> int:
        """PUT each event to the ingress, `concurrency` at a time; the number sent."""
        assert self.session is not None
        ingress, pending, sent = self.url("ingress"), iter(events), 0

        async def worker() -> None:
            nonlocal sent
            for event in pending:
                while True:  # 429/503: the target or the runtime is full; the same key again later
                    async with self.session.put(
                        f"{ingress}/{event.path}", data=event.body,
                        headers={"Content-Type": event.content_type, "Idempotency-Key": event.key},
                    ) as response:
                        if response.status in (429, 503):
                            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                            continue
                        if response.status not in (200, 202):
                            reason = await response.text()
                            raise RuntimeError(
                                f"ingress refused {event.path}: {response.status} {reason}"
                            )
                    break
                sent += 1
                on_sent()

        await asyncio.gather(*(worker() for _ in range(self.config.concurrency)))
        return sent

    async def take(self, topic: str, wait: float) -> str | None:
        """One record from a playground egress topic, waiting up to `wait` s; None if none came."""
        assert self.session is not None
        async with self.session.get(f"{self.url('egress')}/{topic}", params={"wait": str(wait)}) as r:
            if r.status == 404:
                return None
            if r.status != 200:
                raise RuntimeError(f"egress {topic}: {r.status} {await r.text()}")
            return await r.text()

    async def admin(self, path: str) -> dict:
        assert self.session is not None
        async with self.session.get(f"{self.url('admin')}{path}") as r:
            if r.status != 200:
                raise RuntimeError(f"admin {path}: {r.status} {await r.text()}")
            return await r.json()


class OutcomeReader:
    """Takes every example topic's records into an Outcomes while the example runs."""

    def __init__(self, example: Example, on_record=lambda topic: None) -> None:
        self.example = example
        self.outcomes = Outcomes()
        self.on_record = on_record
        self.last_result_at = 0.0  # monotonic time of the last completion or workflow result
        self._changed = asyncio.Condition()
        self._stopping = False
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._read(topic)) for topic in TOPICS]

    async def _read(self, topic: str) -> None:
        while not self._stopping:
            payload = await self.example.take(topic, wait=0.5)
            if payload is not None:
                await self._add(topic, payload)

    async def _add(self, topic: str, payload: str) -> None:
        self.outcomes.add(topic, payload)
        if topic in (TOPIC_COMPLETED, TOPIC_FULFILLMENT):
            self.last_result_at = time.monotonic()
        self.on_record(topic)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until `predicate(outcomes)` holds; False after `timeout` seconds."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.outcomes)), timeout)
                return True
            except TimeoutError:
                return False

    async def stop(self) -> None:
        """Let every reader finish its request (so no record taken is lost), then drain."""
        self._stopping = True
        await asyncio.gather(*self._tasks)
        for topic in TOPICS:
            while (payload := await self.example.take(topic, wait=0)) is not None:
                await self._add(topic, payload)


def expected_outcomes(stream: Stream) -> int:
    """Records the stream should produce: one completion or alert per order, one result per completion."""
    return len(stream.orders) + stream.expected_count(alerted=False)


async def run(config: Config, console: Console | None = None) -> Report:
    """Run the example once; the report says what happened and whether it reconciles."""
    console = console or Console()
    if config.kafka:
        from functions.kafka_demo import KafkaExample  # needs the broker from the dev dependencies

        example: Example = KafkaExample(config)
    else:
        example = Example(config)
    try:
        listeners = await example.start()
        _print_listeners(console, listeners, config)
        stream = generate(config.orders, seed=config.seed, created_at_ms=int(time.time() * 1000))
        report = await _drive(example, stream, listeners, console)
        if config.keep_running:
            print_report(console, report)
            console.print("\n[bold]Running until Ctrl-C[/] (send more events, read topics, inspect state).")
            await _until_signal()
        return report
    finally:
        await example.stop()


async def _drive(example: Example, stream: Stream, listeners: dict[str, str], console: Console) -> Report:
    config = example.config
    total = expected_outcomes(stream)
    with Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:
        sending = progress.add_task("events → ingress", total=len(stream.events))
        finishing = progress.add_task("outcomes ← egress", total=total)

        def on_record(topic: str) -> None:
            if topic not in (TOPIC_IGNORED, TOPIC_REJECTED):
                progress.advance(finishing)

        reader = OutcomeReader(example, on_record)
        reader.start()
        started = time.monotonic()
        sent = await example.send(stream.events, on_sent=lambda: progress.advance(sending))
        send_seconds = time.monotonic() - started
        await reader.wait_for(
            lambda o: sum(map(o.count, (TOPIC_COMPLETED, TOPIC_INCOMPLETE, TOPIC_FULFILLMENT))) >= total,
            config.deadline_ms / 1000 + config.timeout_s,
        )
        busy_seconds = (reader.last_result_at or time.monotonic()) - started
        bad_lines = sum(1 for o in stream.orders if o.expected.dead_lettered)
        await reader.wait_for(lambda o: o.count(TOPIC_REJECTED) >= bad_lines, config.timeout_s)
        # Late events: re-sent for orders that are done by now; each must be reported, not re-opened.
        late = late_events(stream, config.late_events) if config.late_events else []
        sent += await example.send(late)
        await reader.wait_for(lambda o: o.count(TOPIC_IGNORED) >= len(late), config.timeout_s)
        await reader.stop()
    metrics = await example.admin("/metrics.json")
    report = Report(
        stream=stream, outcomes=reader.outcomes, summary=summarize(reader.outcomes),
        problems=reconcile(reader.outcomes, stream, late_events=len(late)),
        listeners=listeners, data_dir=config.data_dir, events_sent=sent,
        send_seconds=send_seconds, busy_seconds=busy_seconds,
        messages=sum(int(f["messages_in"]) for f in metrics["functions"].values()),
    )
    await _check_state(example, report)
    return report


async def _check_state(example: Example, report: Report) -> None:
    """Every order's pending state is gone and its done marker set (read through the admin API)."""
    gate = asyncio.Semaphore(example.config.concurrency)

    async def check(order_id: str) -> None:
        async with gate:
            state = (await example.admin(f"/state/orders/order/{order_id}"))["state"]
        if "pending" in state or "done" not in state:
            report.state_problems.append(f"orders/order/{order_id} still holds {sorted(state)}")
        else:
            report.state_cleared += 1

    await asyncio.gather(*(check(o.order_id) for o in report.stream.orders))
    report.problems += report.state_problems


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _print_listeners(console: Console, listeners: dict[str, str], config: Config) -> None:
    console.print(f"[bold]baton example[/]: {config.orders} orders, deadline {config.deadline_ms} ms, "
                  f"data in {config.data_dir / DB_NAME}", soft_wrap=True)
    for component, url in listeners.items():
        console.print(f"  {component:<40} {url}")


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def print_report(console: Console, report: Report) -> None:
    """The readable summary, then where to look next."""
    s, stream = report.summary, report.stream
    binary = sum(e.binary for e in stream.events)
    table = Table(title="Summary (counted from the egress records)", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_column("")
    table.add_row("orders", str(s.orders),
                  f"{len(stream.events)} events ({len(stream.events) - binary} JSON, {binary} proto)")
    table.add_row("  completed", str(s.completed), "orders-completed, workflow started")
    table.add_row("  incomplete, alerted", str(s.alerted), "orders-incomplete")
    table.add_row("    lines missing", str(s.alerted - s.alerted_without_header), "")
    table.add_row("    header missing", str(s.alerted_without_header), "")
    table.add_row("fulfillment results", str(sum(s.fulfillment.values())), "orders-fulfillment")
    details = {"fulfilled": f"shipped, {_money(s.revenue_cents)} EUR charged",
               "PaymentDeclined": "card declined, nothing charged"}
    for outcome, count in sorted(s.fulfillment.items(), key=lambda kv: (kv[0] != "fulfilled", -kv[1])):
        error, _, reason = outcome.partition(": ")
        detail = f"{reason}: refunded, released" if reason else details.get(outcome, "")
        table.add_row(f"  {error}", str(count), detail)
    table.add_row("late events ignored", str(s.ignored), "orders-ignored (order was done)")
    table.add_row("lines dead-lettered", str(sum(s.dead_lettered.values())),
                  "orders-rejected (failed a rule in module.yaml)")
    for rule, count in s.dead_lettered.items():
        table.add_row(f"  {rule}", str(count), "")
    table.add_row("state cleared", f"{report.state_cleared}/{len(stream.orders)}",
                  "nothing pending, done marker set")
    console.print()
    console.print(table)
    rate = report.messages / report.busy_seconds if report.busy_seconds else 0.0
    console.print(
        f"ingress: {len(stream.events):,} events in {report.send_seconds:.2f} s "
        f"({len(stream.events) / max(report.send_seconds, 1e-9):,.0f} events/s); runtime: "
        f"{report.messages:,} messages to functions in {report.busy_seconds:.2f} s ({rate:,.0f} msg/s, "
        "first event to last workflow result)", soft_wrap=True,
    )
    if report.problems:
        console.print(f"\n[bold red]The summary does not reconcile[/] ({len(report.problems)} problem(s)):")
        for problem in report.problems[:20]:
            console.print(f"  - {problem}", soft_wrap=True)
    else:
        console.print("\n[bold green]Every order reconciles[/] with its planned outcome.")
    admin = report.listeners.get("admin API", DEFAULT_ADMIN)
    flag = "" if admin == DEFAULT_ADMIN else f" --admin {admin}"
    some = next(iter(report.outcomes.fulfillment), "o-0001")
    console.print(
        "\n[bold]Where to look next[/]"
        f"\n  admin API   {admin}/metrics.json  {admin}/workflows  {admin}/state/orders/order/{some}"
        f"\n  data dir    {report.data_dir / DB_NAME}  (SQLite; tables in README.md, Durability)"
        "\n  keep it up  uv run python -m functions --keep-running, then in another shell:"
        f"\n  state       uv run baton state orders/order/{some}{flag}"
        f"\n  workflows   uv run baton workflows list{flag}"
        f"\n              uv run baton workflows describe orders/fulfillment/{some}{flag}"
        f"\n  send        uv run baton send orders/order/o-9001 --type orders/OrderLine{flag} "
        "'{\"line_no\": 1, \"sku\": \"MUG-04\", \"quantity\": 1, \"unit_price_cents\": 1200}'"
        f"\n  egress      uv run baton egress orders-incomplete --follow{flag}"
        f"\n  rejected    uv run baton egress orders-rejected{flag}   (lines dead-lettered by a rule)",
        soft_wrap=True, highlight=False,
    )
