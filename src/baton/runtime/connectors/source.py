"""The source seam: what a connector reading an external source (Kafka, Kinesis) relies on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from baton.module.typename import TypeName
from baton.runtime.address import Address
from baton.runtime.clock import Clock
from baton.runtime.messages import Message, SourcePosition
from baton.runtime.store import DeadLetter


class SourceRuntime(Protocol):
    """The part of the runtime a source uses (`Runtime` implements it)."""

    clock: Clock

    async def ingest_record(
        self, messages: Sequence[Message], position: SourcePosition, topic: str | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        """Deliver a record's messages (none: skip it) and store its position in the same epoch.

        When it must wait for room first it calls `on_wait()` (stop fetching meanwhile). Raises
        RuleRejected when a data-quality rule refuses one (nothing delivered or stored).
        """

    def reject_record(self, position: SourcePosition, letter: DeadLetter | None) -> None:
        """Dead-letter a record that cannot be routed (None: pass over it); store its position
        (same epoch)."""

    def positions(self, source: str) -> dict[str, str]:
        """Stored positions of a source's partitions."""

    async def durable(self) -> None:
        """Return once everything ingested so far is durable."""


class Connector(Protocol):
    """A running source or publisher."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def route(id_: str, typename: str, value: bytes | None, targets: Sequence[TypeName]) -> list[Message]:
    """StateFun's auto-routing (§3.9): the same value to every target type, in order, with one id."""
    return [Message(Address(t.namespace, t.name, id_), None, typename, value) for t in targets]


NO_ID = "(none)"  # the id of a dead letter whose record carried no usable id


def unroutable(
    position: SourcePosition, where: str, reason: str, target: TypeName, id_: str | None,
    typename: str, value: bytes | None, at: float,
) -> DeadLetter:
    """A dead letter for a source record baton cannot route, saying where it came from and why."""
    message = Message(Address(target.namespace, target.name, id_ or NO_ID), None, typename, value)
    return DeadLetter(message, f"{where}: {reason}", at)
