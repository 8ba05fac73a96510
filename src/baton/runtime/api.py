"""The runtime's public surface: what the admin API, the CLI, extensions, benchmarks and tests use.

`Runtime` implements `RuntimeAPI`. Code outside the runtime's core (the admin API, the playground
servers, the workflow host's admin routes) depends on this protocol only, never on the `Runtime`
class, its store or its dispatcher, so the arrows point one way: runtime.py → these modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from baton.module.specs import ModuleSpec, TypeName
from baton.runtime.address import Address
from baton.runtime.clock import Clock
from baton.runtime.messages import EgressRecord, Message
from baton.runtime.metrics import Metrics
from baton.runtime.store import DeadLetter, Parked, StoredValue


@dataclass(frozen=True, slots=True)
class Listener:
    """A component listening on a socket."""

    component: str
    url: str


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    """A snapshot of the runtime's work."""

    queued: int  # messages accepted and not yet applied (those at parked addresses included)
    inflight: int  # invocation batches in flight
    delayed: int  # delayed messages pending
    parked: int  # parked addresses
    backlog: dict[TypeName, int] = field(default_factory=dict)  # queued messages per function type
    # Egress records readable and not yet taken, by (egress id, topic).
    egress_pending: dict[tuple[str, str], int] = field(default_factory=dict)


class UnknownEgress(LookupError):
    """No egress with this id is declared."""


class ConnectorError(Exception):
    """A connector (Kafka ingress or egress) cannot be set up as declared; the message says why."""


class PublishedEgress(LookupError):
    """The egress's records go to its sink (e.g. Kafka): taking one would keep it from there."""


class RuntimeAPI(Protocol):
    """A running runtime, as everything outside its core sees it."""

    module: ModuleSpec  # with every endpoint the extensions added
    clock: Clock
    metrics: Metrics  # counters per function type
    started_at: float  # epoch s, by `clock`
    listeners: list[Listener]

    @property
    def unavailable(self) -> str | None:
        """Why new input cannot be accepted now (the store cannot persist), or None."""
        ...

    def serves(self, function_type: TypeName) -> bool:
        """Whether an endpoint serves this function type (so messages to it can be accepted)."""
        ...

    async def ingest(
        self,
        *messages: Message,
        idempotency_key: str | None = None,
        ingress: str | None = None,
        topic: str | None = None,
    ) -> bool:
        """Accept messages as a pull source would, waiting while full; the contract: `Runtime.ingest`."""
        ...

    async def offer(
        self,
        *messages: Message,
        idempotency_key: str | None = None,
        ingress: str | None = None,
        topic: str | None = None,
    ) -> bool:
        """Accept messages as a push source would, `Refused` when full; the contract: `Runtime.offer`."""
        ...

    def status(self) -> RuntimeStatus: ...

    async def until(
        # A deadline belongs to every wait on a runtime, so it is a parameter.
        self, condition: Callable[[], bool], timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Wait until `condition()` holds, checked after every change (no polling)."""
        ...

    async def until_idle(
        self, timeout: float | None = None, *, timers: bool = False,  # noqa: ASYNC109
    ) -> RuntimeStatus:
        """Wait until nothing can happen without new input (or an operator)."""
        ...

    def state(self, address: Address) -> dict[str, StoredValue]:
        """The address's live (unexpired) state values by name, as stored."""
        ...

    def backlog(self, address: Address) -> int:
        """How many messages wait at (or are in flight to) an address."""
        ...

    def addresses(self, function_type: TypeName) -> list[Address]:
        """Every address of a function type that holds state."""
        ...

    def address_page(
        self, function_type: TypeName, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[Address]:
        """Up to `limit` addresses of a function type holding state, by id: ids starting with
        `prefix`, after the id `after` (the last id of the previous page)."""
        ...

    def parked(self) -> Mapping[Address, Parked]: ...

    def resume(self, address: Address) -> bool:
        """Invoke a parked address again; False if it was not parked."""
        ...

    def dead_letter(self, address: Address) -> Message | None:
        """Move a parked address's first message to the dead letters and resume it."""
        ...

    def dead_letters(self) -> list[DeadLetter]: ...

    async def take_egress(
        self, egress: str, topic: str, wait: float = 0.0, still_wanted: Callable[[], bool] = lambda: True
    ) -> EgressRecord | None:
        """Take the oldest record of an egress topic, waiting up to `wait` s for one to arrive.

        Raises UnknownEgress when no egress `egress` (`namespace/name`) is declared,
        PublishedEgress when a publisher sends its records to their sink (Kafka, Kinesis).
        """
        ...
