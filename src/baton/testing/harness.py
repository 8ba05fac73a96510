"""`Harness`: the real runtime, in-process, on a virtual clock, with faults on demand.

The harness composes what `baton run` composes (module, store, workflow host, runtime) with
three differences a test needs: functions are called in-process (or over loopback HTTP), the
clock is a `VirtualClock` the test moves, and calls go through `SimulatedTransport` so faults can
be injected. Everything else is the runtime users run: same dispatcher, same store, same
interpreter, same parking.

Waiting is exact, never a sleep: the harness knows when the runtime is *quiescent* (no batch in
flight, or every batch in flight is waiting for virtual time) and only then moves the clock, to
the next instant anything waits for. That is what makes time skipping deterministic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from statefun import StatefulFunctions, Type

from baton.http_server import HttpServer
from baton.module import load_module, load_module_text
from baton.module.kinds import PLAYGROUND_EGRESS_RECORD_TYPE
from baton.module.kinds import WORKFLOW_START_TYPENAME as START_TYPENAME
from baton.module.playground import on_free_ports
from baton.module.specs import (
    AsyncTransportSpec,
    EndpointSpec,
    HttpEndpointSpec,
    ModuleSpec,
    PlaygroundEgressSpec,
)
from baton.runtime import Address, Message, Runtime, RuntimeStatus
from baton.runtime.metrics import Metrics
from baton.runtime.sqlite_store import SqliteStore
from baton.runtime.store import MemoryStore, Store, StoredValue
from baton.runtime.transports import Transport, TransportFactory
from baton.runtime.transports.in_process import InProcessTransport
from baton.runtime.typed_values import decode
from baton.serve.http import serve_functions
from baton.testing.clock import DEFAULT_START, VirtualClock
from baton.testing.faults import Faults, SimulatedTransport
from baton.testing.values import typed_value
from baton.workflows.engine import Execution
from baton.workflows.host import IN_PROCESS_URL, WorkflowHost, workflow_host
from baton.workflows.stored_execution import read_execution

DEFAULT_TIMEOUT_S = 30.0  # real seconds any one wait may take before the test fails


@dataclass(frozen=True, slots=True)
class Record:
    """One egress record: its topic and payload (a playground payload is text, Kafka/Kinesis
    records are the raw protobuf bytes), and the egress it went to."""

    topic: str
    payload: str | bytes
    egress: str

    def json(self) -> Any:
        """The payload parsed as JSON."""
        return json.loads(self.payload)


class Harness:
    """A runtime for tests. Use it as `async with Harness(...) as h:` (or `start`/`stop`).

    - `module`: a module.yaml path (or a loaded `ModuleSpec`); without one, each function in
      `functions` gets an endpoint of its own and `egress_topics` a playground egress.
    - `functions`: the official SDK's `StatefulFunctions`, called in-process for every endpoint
      of the module (the endpoints' URLs are not used); `http=True` serves them on a loopback
      port instead and calls them over HTTP. Without `functions`, endpoints are called as
      module.yaml says (a function server the test started, a Lambda, ...).
    - `data_dir`: a SQLite store there (needed for `crash`); default in memory.
    - `auto`: skip time whenever the runtime waits only for it, while the test waits
      (`until`, `result`, `egress(count=)`), like Temporal's time-skipping environment.
      Without it only `advance` and `until_idle(timers=True)` move the clock.
    - `start`: where virtual time starts; `seed`: makes workflow jitter depend only on it and the
      execution id. With both fixed (the defaults), runs are identical.
    """

    def __init__(
        self,
        module: str | Path | ModuleSpec | None = None,
        functions: StatefulFunctions | None = None,
        *,
        data_dir: str | Path | None = None,
        auto: bool = False,
        start: datetime | float = DEFAULT_START,
        seed: str = "baton",
        http: bool = False,
        egress_topics: Sequence[str] = (),
        admin_port: int | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if module is None and functions is None:
            raise ValueError("give the Harness a module.yaml, SDK functions, or both")
        self.clock = VirtualClock(start)
        self.faults = Faults()
        self.auto = auto
        self.timeout = timeout
        self._functions = functions
        self._module = _load(module, functions, egress_topics)
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._seed = seed
        self._http = http
        self._admin_port = admin_port
        self._server: HttpServer | None = None
        self._runtime: Runtime | None = None
        self._store: Store | None = None
        self._real: TransportFactory | None = None
        self._crash: asyncio.Task[None] | None = None
        self.crashes = 0  # how many times the runtime crashed (and was restarted)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> Harness:
        if self._functions is not None and self._http:
            self._server, url = await serve_functions(self._functions)
            self._module = _routed_to(self._module, url)
        await self._start_runtime()
        return self

    async def stop(self) -> None:
        if self._crash is not None:
            with suppress(Exception):
                await self._crash
        if self._runtime is not None:
            await self._runtime.stop()
            self._runtime = None
        if self._real is not None:
            await self._real.close()
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> Harness:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def runtime(self) -> Runtime:
        """The running runtime (a new one after each crash): the full `RuntimeAPI`."""
        if self._runtime is None:
            raise RuntimeError(
                "no runtime: the harness is not started (use `async with Harness(...)`) or is "
                "restarting after a crash (await one of its waits first)"
            )
        return self._runtime

    @property
    def metrics(self) -> Metrics:
        return self.runtime.metrics

    def now(self) -> datetime:
        """The virtual time."""
        return self.clock.datetime()

    # --- input -----------------------------------------------------------------------------

    async def send(
        self, address: str | Address, value: Any = None, type: Type | str | None = None,
        *, caller: str | Address | None = None,
    ) -> None:
        """Send a message as an ingress would (durable when this returns). See `typed_value`
        for how `value` and `type` become a typename and bytes."""
        await self._recovered()
        target = _address(address)
        if not self.runtime.serves(target.function_type):
            raise LookupError(
                f"no endpoint serves {target.function_type}; the module serves: "
                + ", ".join(sorted(str(e.functions) for e in self.runtime.module.endpoints))
            )
        typename, data = typed_value(value, type)
        sender = _address(caller) if caller is not None else None
        await self.runtime.ingest(Message(target, sender, typename, data))

    async def start_workflow(self, workflow: str, execution_id: str, input: Any = None) -> Address:
        """Start an execution of a module.yaml workflow with `input` (JSON); its address."""
        address = Address.parse(f"{workflow}/{execution_id}")
        await self.send(address, {} if input is None else input, type=START_TYPENAME)
        return address

    # --- time and waiting ------------------------------------------------------------------

    async def advance(self, delta: timedelta | float) -> None:
        """Move virtual time forward by `delta`: everything due on the way happens, in order,
        each instant's work finished before the clock moves on."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError(f"time only moves forward; cannot advance by {seconds} s")
        target = self.clock.now() + seconds
        async with self._deadline(f"advancing the clock by {seconds:g} s"):
            while True:
                await self._until(self._quiescent)
                due = self.clock.next_deadline()
                if due is None or due > target:
                    break
                await self.clock.step(due)
            await self.clock.advance_to(target)
            await self._until(self._quiescent)

    async def until_idle(self, *, timers: bool = False, timeout: float | None = None) -> RuntimeStatus:  # noqa: ASYNC109
        """Until nothing can happen without new input: every batch in flight done, virtual time
        moved as far as their calls need (retry backoff, a slow reply, a timeout). With
        `timers`, also every delayed message fired, however far away (a 24 h Wait included)."""
        async with self._deadline("waiting for the runtime to be idle", timeout):
            if timers:
                await self._until(lambda: self._idle() and not self.runtime.status().delayed, skip=True)
            else:
                await self._until(self._idle, skip=True)
        return self.runtime.status()

    async def until(self, condition: Callable[[], bool], *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Until `condition()` holds (checked after every change; in `auto` mode time skips
        while the runtime waits only for it)."""
        async with self._deadline("waiting for the condition", timeout):
            await self._until(condition, skip=self.auto)

    # --- observing -------------------------------------------------------------------------

    def state(self, address: str | Address) -> dict[str, Any]:
        """The address's live state by name, decoded: built-in types as Python values, JSON as
        objects, anything else (e.g. protobuf) as raw bytes."""
        return {name: decode(v.typename, v.value) for name, v in self.raw_state(address).items()}

    def raw_state(self, address: str | Address) -> dict[str, StoredValue]:
        """The address's live state by name: typename, bytes, expiry."""
        return self.runtime.state(_address(address))

    async def egress(
        self, topic: str, *, count: int | None = None, egress: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[Record]:
        """Take the records of an egress topic (those committed; a taken record is gone).

        With `count`, wait until that many are there (skipping time in `auto` mode) and take
        exactly those. `egress` is the egress id; by default the one declaring `topic`.
        """
        egress_id = egress or self._egress_of(topic)
        store = self._store
        assert store is not None
        if count is not None:
            async with self._deadline(f"waiting for {count} record(s) on {topic!r}", timeout):
                await self._until(lambda: store.outbox_size(egress_id, topic) >= count, skip=self.auto,
                                  durable=True)
        else:
            await store.durable()
        records: list[Record] = []
        while count is None or len(records) < count:
            record = await self.runtime.take_egress(egress_id, topic)
            if record is None:
                break
            records.append(_record(record.egress, topic, record.typename, record.value))
        return records

    def parked(self) -> dict[str, str]:
        """Parked addresses and why."""
        return {str(address): parked.reason for address, parked in self.runtime.parked().items()}

    def resume(self, address: str | Address) -> bool:
        """Invoke a parked address again; False if it was not parked."""
        return self.runtime.resume(_address(address))

    def execution(self, address: str | Address) -> Execution | None:
        """The workflow execution at an address (status, output, error, history), if started."""
        stored = read_execution(self.runtime, _address(address))
        return stored.execution if stored is not None else None

    async def result(self, address: str | Address, *, timeout: float | None = None) -> Execution:  # noqa: ASYNC109
        """Wait until the execution at `address` has finished (skipping time in `auto` mode)."""
        target = _address(address)

        def finished() -> bool:
            execution = self.execution(target)
            return execution is not None and execution.finished

        await self.until(finished, timeout=timeout)
        execution = self.execution(target)
        assert execution is not None
        return execution

    # --- crashes ---------------------------------------------------------------------------

    async def crash(self, *, restart: bool = True) -> None:
        """Crash the runtime between two epochs, as `kill -9` right after a commit would:
        everything applied so far is committed, calls in flight are abandoned (their replies
        never applied). Then (by default) restart it on the same store, as `baton run
        --data-dir` would: the batches that were in flight are sent again.

        (`faults.crash(target)` crashes it while a given function's call is in flight.)"""
        if self._data_dir is None:
            raise RuntimeError(
                "crash() needs a durable store: start the Harness with data_dir=... (a crash of "
                "an in-memory runtime would lose everything, with nothing to restart from)"
            )
        runtime, store = self.runtime, self._store
        assert isinstance(store, SqliteStore)
        await store.durable()
        store.crash()
        self._runtime = None
        await runtime.stop()
        self.crashes += 1
        if restart:
            await self.restart()

    async def restart(self) -> None:
        """Start a new runtime on the same store (after `crash(restart=False)`)."""
        if self._runtime is not None:
            raise RuntimeError("the runtime is running; crash() it first")
        await self._start_runtime()

    # --- internals -------------------------------------------------------------------------

    async def _start_runtime(self) -> None:
        self._store = SqliteStore(self._data_dir) if self._data_dir is not None else MemoryStore()
        host = workflow_host(self._module, serve=False, now=self.clock.now, seed=self._seed)
        transports = TransportFactory()
        runtime = Runtime(
            self._module, self._store, admin_port=self._admin_port, clock=self.clock,
            extensions=[host], transports=transports,
        )
        if self._real is None:
            self._real = TransportFactory()
        for endpoint in runtime.module.endpoints:
            inner = self._inner_transport(endpoint, host)
            transports.use(endpoint, SimulatedTransport(
                inner, endpoint, self.faults, self.clock,
                durable=self._store.durable, on_crash=self._crashed,
            ))
        await runtime.start()
        self._runtime = runtime

    def _inner_transport(self, endpoint: EndpointSpec, host: WorkflowHost) -> Transport:
        if endpoint in host.endpoints and host.functions is not None:
            return InProcessTransport(host.functions)
        if self._functions is not None and not self._http:
            return InProcessTransport(self._functions)
        assert self._real is not None
        return _Unowned(self._real.get(endpoint))  # closed with `_real`, not per runtime

    def _crashed(self) -> None:
        """A `crash` fault fired inside a call: crash and restart, outside that call."""
        if self._crash is None or self._crash.done():
            self._crash = asyncio.get_running_loop().create_task(self.crash())

    async def _recovered(self) -> None:
        """Wait for a crash in progress to finish restarting."""
        while self._crash is not None and not self._crash.done():
            await self._crash
        if self._crash is not None:
            crash, self._crash = self._crash, None
            crash.result()  # a failed restart fails the test here

    def _idle(self) -> bool:
        runtime = self.runtime
        status = runtime.status()
        parked_backlog = sum(runtime.backlog(address) for address in runtime.parked())
        return not status.inflight and status.queued == parked_backlog

    def _quiescent(self) -> bool:
        """Nothing runs but waits for virtual time: idle, or every batch in flight is asleep."""
        if not self.clock.settled:
            return False  # a timer loop was woken and has yet to deliver what came due
        inflight = self.runtime.status().inflight
        return self._idle() or (inflight > 0 and inflight == self.clock.sleeping_calls)

    async def _until(
        self, condition: Callable[[], bool], *, skip: bool = False, durable: bool = False
    ) -> None:
        """Wait for `condition`; with `skip`, step the clock whenever the runtime is quiescent.

        Wakes on every runtime change, every change in who waits on the clock, and crashes.
        `durable`: also wait for the store to commit (egress is readable only after that).
        """
        while True:
            await self._recovered()
            if durable:
                assert self._store is not None
                await self._store.durable()
            if condition():
                return
            if skip and self._quiescent() and (due := self.clock.next_deadline()) is not None:
                await self.clock.step(due)
                continue
            await self._next_change(condition)

    async def _next_change(self, condition: Callable[[], bool]) -> None:
        quiescent = self._quiescent()
        waits = [
            asyncio.ensure_future(
                self.runtime.until(lambda: condition() or self._quiescent() != quiescent)
            ),
            asyncio.ensure_future(self.clock.changed()),
        ]
        if self._crash is not None:
            waits.append(asyncio.ensure_future(asyncio.shield(self._crash)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def _deadline(self, what: str, timeout: float | None = None) -> _Deadline:
        return _Deadline(self, what, self.timeout if timeout is None else timeout)

    def _egress_of(self, topic: str) -> str:
        egresses = self.runtime.module.egresses
        for spec in egresses:
            if isinstance(spec, PlaygroundEgressSpec) and topic in spec.topics:
                return str(spec.id)
        others = [e for e in egresses if not isinstance(e, PlaygroundEgressSpec)]
        if len(others) == 1:  # a Kafka or Kinesis egress: any topic
            return str(others[0].id)
        declared = ", ".join(f"{e.id}" for e in egresses) or "none"
        raise LookupError(
            f"no playground egress declares topic {topic!r}; pass egress= one of: {declared}"
        )

    def describe(self) -> str:
        """What the runtime is doing, for failure messages."""
        if self._runtime is None:
            return "not running"
        status = self._runtime.status()
        due = self.clock.next_deadline()
        later = f"; next wait ends at +{due - self.clock.now():g} s virtual" if due is not None else ""
        parked = "; ".join(f"{a}: {r}" for a, r in self.parked().items())
        return (
            f"queued={status.queued} in flight={status.inflight} "
            f"(asleep on the virtual clock: {self.clock.sleeping_calls}) delayed={status.delayed}"
            f"{later}{'; parked: ' + parked if parked else ''}"
        )


class _Deadline:
    """A real-time bound on one wait, failing with what the runtime was doing."""

    def __init__(self, harness: Harness, what: str, seconds: float) -> None:
        self._harness = harness
        self._what = what
        self._seconds = seconds
        self._timeout = asyncio.timeout(seconds)

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        try:
            await self._timeout.__aexit__(kind, error, tb)  # type: ignore[arg-type]
        except TimeoutError:
            hint = "" if self._harness.auto else " (time moves only with advance(), or auto=True)"
            raise TimeoutError(
                f"{self._what}: not done after {self._seconds:g} s of real time; "
                f"{self._harness.describe()}{hint}"
            ) from None


class _Unowned:
    """A transport shared between runtimes: a crashed runtime must not close it."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self.call = inner.call

    async def close(self) -> None:
        """Closed by its factory when the harness stops."""


def _address(address: str | Address) -> Address:
    return address if isinstance(address, Address) else Address.parse(address)


def _record(egress: str, topic: str, typename: str, value: bytes | None) -> Record:
    if typename == PLAYGROUND_EGRESS_RECORD_TYPE:
        return Record(topic, json.loads(value or b"{}")["payload"], egress)
    return Record(topic, value or b"", egress)


def _load(
    module: str | Path | ModuleSpec | None, functions: StatefulFunctions | None,
    egress_topics: Sequence[str],
) -> ModuleSpec:
    """The module to run, its playground servers on free ports (tests run in parallel)."""
    if module is None:
        assert functions is not None
        spec = load_module_text(_module_yaml(functions, egress_topics), "<functions>")
    elif isinstance(module, ModuleSpec):
        spec = module
    else:
        spec = load_module(module)
    return on_free_ports(spec)


def _module_yaml(functions: StatefulFunctions, egress_topics: Sequence[str]) -> str:
    """A module.yaml with an endpoint for each function (and a playground egress)."""
    typenames = sorted(functions._functions)  # the SDK keeps its registry private
    documents = [
        f"kind: io.statefun.endpoints.v2/http\nspec:\n  functions: {typename}\n"
        f"  urlPathTemplate: {IN_PROCESS_URL}"
        for typename in typenames
    ]
    if egress_topics:
        documents.append(
            "kind: io.statefun.playground.v1/egress\nspec:\n  port: 0\n"
            f"  topics: [{', '.join(egress_topics)}]"
        )
    return "\n---\n".join(documents)


def _routed_to(module: ModuleSpec, url: str) -> ModuleSpec:
    """Every endpoint of the module pointed at one function server (`http=True`)."""
    endpoints = tuple(
        dataclasses.replace(e, url_path_template=url) if isinstance(e, HttpEndpointSpec)
        else HttpEndpointSpec(e.functions, url, transport=AsyncTransportSpec(call=e.call))
        for e in module.endpoints
    )
    return dataclasses.replace(module, endpoints=endpoints)


__all__ = ["Harness", "Record"]
