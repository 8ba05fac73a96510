"""The publisher seam: committed outbox records go to a sink, and leave the outbox once it has them.

`OutboxDrain` runs one `Publisher`: it takes records only after their epoch committed (the
outbox releases nothing earlier), sends them in seq order, and acknowledges them (removes them
from the outbox) only after the sink acknowledged. A crash in between sends them again, so every
publisher is at least once; one whose sink remembers the highest outbox seq it holds (e.g. in
the same Kafka transaction) returns it from `start()`, and the drain skips what it already has:
exactly once.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from baton.runtime.background import stop_tasks
from baton.runtime.egress import EgressRouter
from baton.runtime.messages import EgressRecord

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class Publisher(abc.ABC):
    """Sends one egress's records to its sink."""

    egress: str  # the egress id, `namespace/name`

    @abc.abstractmethod
    async def start(self) -> int:
        """Connect; the highest outbox seq the sink already holds for this egress (0: unknown)."""

    @abc.abstractmethod
    async def send(self, records: list[EgressRecord]) -> None:
        """Send records (oldest first); return once the sink acknowledged every one, else raise."""

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release the client."""


class OutboxDrain:
    """Moves one egress's committed outbox records to its publisher, retrying until it succeeds."""

    def __init__(
        self, publisher: Publisher, router: EgressRouter, *, batch: int = 1000,
        retry_s: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self.publisher = publisher
        self._router = router
        self._batch = batch
        self._retry_s = retry_s
        self._task: asyncio.Task[None] | None = None
        self.sent = 0  # records the sink acknowledged since start (for metrics and tests)
        self.error: str | None = None  # the last failure, until a send succeeds

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"baton-publish-{self.publisher.egress}")

    async def stop(self) -> None:
        await stop_tasks(self._task)
        await self.publisher.close()

    async def _run(self) -> None:
        held = await self._retrying("connect", self.publisher.start)
        egress = self.publisher.egress
        while True:
            await self._router.wait_pending(egress)
            records = self._router.pending(egress, self._batch)
            fresh = [r for r in records if r.seq > held]  # the sink has the others already
            if fresh:
                await self._retrying("publish", functools.partial(self.publisher.send, fresh))
                self.sent += len(fresh)
            held = max(held, records[-1].seq)
            self._router.acknowledge(records)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[_T]]) -> _T:
        delay, longest = self._retry_s
        while True:
            try:
                result = await attempt()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the sink is away or refused: keep the records, retry
                if self.error is None:
                    log.warning("egress %s: cannot %s (%s); retrying", self.publisher.egress, what, error)
                self.error = f"cannot {what}: {error}"
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            if self.error is not None:
                log.info("egress %s: %s works again", self.publisher.egress, what)
                self.error = None
            return result
