"""The embedded runtime: a StateFun-compatible cluster in one asyncio process."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence

from baton.module.specs import ModuleSpec, TypeName
from baton.runtime.address import Address
from baton.runtime.admin_guard import AdminSurface
from baton.runtime.admission import DEFAULT_LIMITS, Limits, Refused
from baton.runtime.api import Listener, PublishedEgress, RuntimeStatus, UnknownEgress
from baton.runtime.clock import SYSTEM_CLOCK, Clock
from baton.runtime.connectors.factory import CONNECTED_KINDS, connectors_for
from baton.runtime.connectors.source import Connector
from baton.runtime.dispatcher import Dispatcher
from baton.runtime.egress import EgressRouter
from baton.runtime.extension import MetricsSource, RuntimeExtension
from baton.runtime.invoker import Invoker
from baton.runtime.messages import EgressRecord, Message, SourcePosition
from baton.runtime.metrics import Metrics
from baton.runtime.observability.tracing import BatchTracing
from baton.runtime.rules import IngressRules
from baton.runtime.servers import Servers
from baton.runtime.state_registry import StateRegistry
from baton.runtime.store import DeadLetter, MemoryStore, Parked, Store, StoredValue
from baton.runtime.transports import TransportFactory

log = logging.getLogger(__name__)

__all__ = ["Limits", "Listener", "Refused", "Runtime", "RuntimeStatus"]


class Runtime:
    """Loads nothing itself: give it a ModuleSpec and a Store, then `start()`.

    Everything outside the runtime uses the public methods below (see `RuntimeAPI`); the store
    and the dispatcher are its own.
    """

    def __init__(
        self,
        module: ModuleSpec,
        store: Store | None = None,
        *,
        host: str = "127.0.0.1",
        admin_port: int | None = 8081,
        admin_host: str = "127.0.0.1",
        admin_token: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
        idempotency_window_s: float = 86_400.0,
        clock: Clock = SYSTEM_CLOCK,
        extensions: Sequence[RuntimeExtension] = (),
        tracer_provider: object | None = None,
        transports: TransportFactory | None = None,
    ) -> None:
        """`tracer_provider`: an OpenTelemetry TracerProvider for a span per invocation batch
        (e.g. `observability.tracing.tracer_provider_from_env()`); None traces nothing.
        `transports`: how endpoints are reached (default: by their kind); a composition root may
        route some in-process with `TransportFactory.use` (as `baton.testing` does)."""
        self._extensions = tuple(extensions)
        for extension in self._extensions:
            module = extension.attach(module)
        _warn_unserved(module, self._extensions)
        self.module = module
        self.clock = clock
        self.admin_port = admin_port
        self.metrics = Metrics()
        self.listeners: list[Listener] = []
        self.started_at = clock.now()
        self._store = store if store is not None else MemoryStore()
        self._store.epochs = self.metrics.epochs
        self._tracing = BatchTracing(tracer_provider) if tracer_provider is not None else None
        self._registry = StateRegistry()
        self._egress = EgressRouter(module, self._store)
        self._invoker = Invoker(
            self._store, self._registry, self.metrics, clock=clock, transports=transports
        )
        self._dispatcher = Dispatcher(
            module, self._store, self._invoker, self._registry, self._egress, self.metrics,
            limits=limits, idempotency_window_s=idempotency_window_s, clock=clock,
            tracing=self._tracing,
        )
        self._rules = IngressRules(module, self.metrics, self._store, self._egress, clock)
        self._servers = Servers(host, AdminSurface(admin_host, admin_token))
        self._connectors: list[Connector] = []

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> list[Listener]:
        """Start extensions and timers, resume stored mailboxes, open every listening component."""
        self.started_at = self.clock.now()
        for extension in self._extensions:
            await extension.start()
            self.listeners.extend(extension.listeners())
        await self._store.start()
        self._dispatcher.timers.start()
        self._dispatcher.resume_mailboxes()
        self._connectors = connectors_for(self.module, self, self._egress)
        for connector in self._connectors:
            await connector.start()
        routes = [route for e in self._extensions for route in e.admin_routes(self)]
        collectors = [
            c for e in self._extensions if isinstance(e, MetricsSource) for c in e.collectors(self)
        ]
        self.listeners.extend(await self._servers.open(self, self.admin_port, routes, collectors))
        log.info("runtime started: %s", ", ".join(f"{ln.component} {ln.url}" for ln in self.listeners),
                 extra={"event": "runtime_started",
                        "listeners": json.dumps({ln.component: ln.url for ln in self.listeners})})
        return self.listeners

    async def stop(self) -> None:
        """Stop sources and publishers, close listeners (no new input), then stop batches,
        transport, extensions, store."""
        for connector in self._connectors:
            await connector.stop()
        await self._servers.close()
        await self._dispatcher.stop()
        await self._invoker.close()
        for extension in reversed(self._extensions):
            await extension.stop()
        await self._store.commit()
        self._store.close()
        if self._tracing is not None:
            self._tracing.shutdown()
        log.info("runtime stopped", extra={"event": "runtime_stopped"})

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url_of(self, component_prefix: str) -> str:
        """The URL of the first listener whose name starts with the prefix (e.g. 'admin')."""
        return next(ln.url for ln in self.listeners if ln.component.startswith(component_prefix))

    # --- input -----------------------------------------------------------------------------

    @property
    def unavailable(self) -> str | None:
        """Why new input cannot be accepted now (the store cannot persist), or None."""
        return self._dispatcher.unavailable

    def serves(self, function_type: TypeName) -> bool:
        """Whether an endpoint serves this function type."""
        return self._dispatcher.endpoint(function_type) is not None

    async def ingest(
        self,
        *messages: Message,
        idempotency_key: str | None = None,
        ingress: str | None = None,
        topic: str | None = None,
    ) -> bool:
        """Accept messages as a pull source (Kafka) would: waits while a target or the runtime
        is full, returns once durable.

        With an idempotency key already accepted, nothing is delivered again (returns False).
        Raises InvalidAddress for an address no function can have. `ingress` (its id,
        `namespace/name`) and `topic` say where the messages came from, for the data-quality
        rules, which see every message first: one failing an ERROR rule raises `RuleRejected`
        and nothing is accepted; one failing a DLQ rule is dead-lettered instead.
        """
        return await self._accept(messages, idempotency_key, ingress, topic, wait=True)

    async def offer(
        self,
        *messages: Message,
        idempotency_key: str | None = None,
        ingress: str | None = None,
        topic: str | None = None,
    ) -> bool:
        """Accept messages as a push source (HTTP) would: raises `Refused` at once when a target
        or the runtime is full (nothing is delivered then); otherwise like `ingest`."""
        return await self._accept(messages, idempotency_key, ingress, topic, wait=False)

    async def _accept(
        self, messages: tuple[Message, ...], idempotency_key: str | None, ingress: str | None,
        topic: str | None, *, wait: bool,
    ) -> bool:
        dispatcher = self._dispatcher
        if self._rules.active:
            if idempotency_key is not None and dispatcher.seen_key(idempotency_key):
                await self._store.durable()  # acknowledged once the first copy is durable
                return False
            delivered = self._rules.admit(messages, ingress, topic)
            if not delivered:  # every message dead-lettered: still durable, and the key kept
                if idempotency_key is not None:
                    dispatcher.remember_key(idempotency_key)
                await self._store.durable()
                return True
            messages = tuple(delivered)
        accept = dispatcher.ingest if wait else dispatcher.offer
        return await accept(*messages, idempotency_key=idempotency_key)

    # --- input from sources with positions (Kafka partitions, Kinesis shards) ---------------

    async def ingest_record(
        self, messages: Sequence[Message], position: SourcePosition, topic: str | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        """Accept one source record: its messages (in order, maybe none) and its position, one epoch.

        Waits, as `ingest` does, while a target or the runtime is full (calling `on_wait()`
        first, so the source can stop fetching), then delivers and records the position with
        no await in between, so both land in the same epoch. Returns before they are durable: a
        source ingests many records, then awaits `durable()` once (e.g. to commit offsets). The
        data-quality rules see the messages first (ingress = the source, `topic`): RuleRejected
        when one fails an ERROR rule (nothing is delivered, no position stored); DLQ failures are
        dead-lettered in the same epoch.
        """
        dispatcher = self._dispatcher
        if dispatcher.would_wait(messages):
            if on_wait is not None:
                on_wait()
            await dispatcher.admit(messages)
        if self._rules.active and messages:  # after the wait: its dead letters join this epoch
            messages = self._rules.admit(messages, position.source, topic)
        for message in messages:
            dispatcher.deliver(message)
        self._store.set_position(position.source, position.partition, position.position)

    def reject_record(self, position: SourcePosition, letter: DeadLetter | None) -> None:
        """Dead-letter a source record baton cannot route, with its position (same epoch).

        With no letter, only the position is stored: the record is passed over without a trace
        (e.g. a Kinesis aggregate whose records all belong to other shards).
        """
        if letter is not None:
            self._store.add_dead_letter(letter)
        self._store.set_position(position.source, position.partition, position.position)

    def positions(self, source: str) -> dict[str, str]:
        """The stored position of every partition of a source (where a restart resumes)."""
        return self._store.positions(source)

    async def durable(self) -> None:
        """Return once everything accepted so far is durable."""
        await self._store.durable()

    # --- observing and waiting -------------------------------------------------------------

    def status(self) -> RuntimeStatus:
        """Counts of queued, in-flight, delayed and parked work, and the backlog per type."""
        backlog: dict[TypeName, int] = {}
        for address in self._store.busy_addresses():
            function_type = address.function_type
            backlog[function_type] = backlog.get(function_type, 0) + self._store.backlog(address)
        dispatcher = self._dispatcher
        return RuntimeStatus(
            queued=dispatcher.queued,
            inflight=dispatcher.inflight,
            delayed=len(dispatcher.timers),
            parked=len(self._store.parked()),
            backlog=backlog,
            egress_pending=self._store.outbox_sizes(),
        )

    async def until(
        # A deadline belongs to every wait on a runtime, so it is a parameter.
        self, condition: Callable[[], bool], timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Wait until `condition()` holds; raises TimeoutError after `timeout` seconds.

        The condition is checked now and after every change: a batch applied or finished, an
        address parked or resumed, a delayed message fired. No polling.
        """

        if condition():
            return

        async def wait() -> None:
            while not condition():
                await self._dispatcher.changed()

        await asyncio.wait_for(wait(), timeout)

    async def until_idle(
        self, timeout: float | None = None, *, timers: bool = False,  # noqa: ASYNC109
    ) -> RuntimeStatus:
        """Wait until nothing can happen without new input; the status then.

        Idle: no batch in flight and no message waiting except at parked addresses (those
        wait for an operator); with `timers`, also no delayed message pending. Raises
        TimeoutError after `timeout` seconds.
        """
        await self.until(lambda: self._dispatcher.is_idle(timers=timers), timeout)
        return self.status()

    def state(self, address: Address) -> dict[str, StoredValue]:
        """The address's live (unexpired) state values by name, as stored (typename + bytes)."""
        now = self.clock.now()
        return {name: v for name, v in self._store.states(address).items() if not v.expired(now)}

    def backlog(self, address: Address) -> int:
        """How many messages wait at (or are in flight to) an address."""
        return self._store.backlog(address)

    def addresses(self, function_type: TypeName) -> list[Address]:
        """Every address of a function type that holds state (for listings, not hot paths)."""
        return self._store.addresses_with_state(function_type.namespace, function_type.name)

    def address_page(
        self, function_type: TypeName, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[Address]:
        """Up to `limit` addresses of a function type holding state, by id (a store query)."""
        return self._store.address_page(function_type.namespace, function_type.name, prefix, after, limit)

    # --- operators -------------------------------------------------------------------------

    def parked(self) -> Mapping[Address, Parked]:
        """Parked addresses and why."""
        return dict(self._store.parked())

    def resume(self, address: Address) -> bool:
        """Invoke a parked address again; False if it was not parked."""
        return self._dispatcher.resume(address)

    def dead_letter(self, address: Address) -> Message | None:
        """Move a parked address's first message to the dead letters, then resume it.

        None if the address is not parked (or is in flight) or has no messages.
        """
        return self._dispatcher.dead_letter_head(address)

    def dead_letters(self) -> list[DeadLetter]:
        return list(self._store.dead_letters())

    # --- egress ----------------------------------------------------------------------------

    async def take_egress(
        self, egress: str, topic: str, wait: float = 0.0, still_wanted: Callable[[], bool] = lambda: True
    ) -> EgressRecord | None:
        """Take the oldest record of an egress topic, waiting up to `wait` s for one to arrive.

        `still_wanted()` is asked before taking, so a reader that went away takes nothing.
        Raises UnknownEgress when no egress `egress` (`namespace/name`) is declared,
        PublishedEgress when a publisher sends its records to their sink (Kafka, Kinesis).
        """
        spec = self._egress.egresses.get(egress)
        if spec is None:
            raise UnknownEgress(egress)
        if spec.kind in CONNECTED_KINDS:
            raise PublishedEgress(egress)
        return await self._egress.take_waiting(egress, topic, wait, still_wanted)


def _warn_unserved(module: ModuleSpec, extensions: Sequence[RuntimeExtension]) -> None:
    """Say which module documents nothing serves (e.g. workflows without the workflow host)."""
    served = {kind for extension in extensions for kind in extension.kinds}
    for kind in sorted({doc.kind for doc in module.extensions} - served):
        log.warning(
            "module documents of kind %s are not served by this runtime (no extension for them)",
            kind, extra={"event": "kind_not_served", "kind": str(kind)},
        )
