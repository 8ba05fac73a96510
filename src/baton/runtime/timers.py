"""Delayed messages: fire each at its time, unless its cancellation token was used first."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable

from baton.runtime.background import stop_tasks
from baton.runtime.clock import Clock
from baton.runtime.messages import DelayedMessage, Message
from baton.runtime.store import Store


class Timers:
    """A heap of pending delayed messages and one task that fires them when due.

    It reads and waits for time only through its clock, so a virtual clock can drive it.
    """

    def __init__(self, store: Store, deliver: Callable[[Message], None], clock: Clock) -> None:
        self._store = store
        self._deliver = deliver
        self._clock = clock
        self._heap: list[tuple[float, int, DelayedMessage]] = []
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Load what the store holds (timers due while down fire at once) and start firing."""
        for delayed in self._store.all_delayed():
            self._push(delayed)
        self._task = asyncio.create_task(self._run(), name="baton-timers")

    async def stop(self) -> None:
        await stop_tasks(self._task)

    def __len__(self) -> int:
        return len(self._pending)

    def schedule(self, delayed: DelayedMessage) -> None:
        """Keep a delayed message in the store and fire it when due."""
        self._store.add_delayed(delayed)
        self._push(delayed)

    def cancel(self, scope: str, token: str) -> bool:
        """Cancel the pending message with this token in this scope; unknown tokens are a no-op."""
        delayed = self._store.delayed_by_token(scope, token)
        if delayed is None:
            return False
        self._store.remove_delayed(delayed)
        self._pending.discard(delayed.seq)
        return True

    def _push(self, delayed: DelayedMessage) -> None:
        self._pending.add(delayed.seq)
        if not self._heap or delayed.fire_at < self._heap[0][0]:
            self._wake.set()
        heapq.heappush(self._heap, (delayed.fire_at, delayed.seq, delayed))

    async def _run(self) -> None:
        while True:
            now = self._clock.now()
            while self._heap and self._heap[0][0] <= now:
                _, seq, delayed = heapq.heappop(self._heap)
                if seq in self._pending:
                    self._pending.discard(seq)
                    self._store.remove_delayed(delayed)
                    self._deliver(delayed.message)
            self._wake.clear()
            await self._clock.wait_until(self._heap[0][0] if self._heap else None, self._wake)
