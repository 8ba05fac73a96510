"""`VirtualClock`: a `Clock` that moves only when the test moves it.

The runtime reads time and waits for it only through its `Clock` (delayed messages, TTL expiry,
parking timestamps), the harness's in-process functions do the same (a workflow's Wait, retry
backoff and timeouts are delayed messages; its history timestamps come from the clock), and
injected faults (a slow reply, the backoff between failed attempts) sleep on it too. So advancing
this clock makes a day pass in microseconds, deterministically: waiters are woken strictly in
time order, one instant at a time.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_START = datetime(2030, 1, 1, tzinfo=UTC)
"""Where virtual time starts unless told otherwise: fixed, so every run sees the same times."""


@dataclass(order=True, slots=True)
class _Waiter:
    when: float
    seq: int
    reached: asyncio.Future[None] = field(compare=False)
    returned: asyncio.Future[None] = field(compare=False)
    call: bool = field(compare=False)  # an in-flight call sleeping (not a background timer loop)
    wake: asyncio.Event | None = field(compare=False, default=None)

    @property
    def waiting(self) -> bool:
        """Still waiting (not yet reached or woken)."""
        return not self.reached.done() and not (self.wake is not None and self.wake.is_set())


class VirtualClock:
    """Virtual epoch seconds. `advance`/`advance_to` move it; nothing else does.

    Use it as the runtime's `clock=`; `Harness` does, and drives it (`Harness.advance`, and time
    skipping in `auto` mode). On its own, `advance` wakes waiters in time order but does not wait
    for the work they start; the harness does (it knows the runtime).
    """

    def __init__(self, start: datetime | float = DEFAULT_START) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._changed: asyncio.Event | None = None

    # --- the Clock protocol ----------------------------------------------------------------

    def now(self) -> float:
        return self._now

    async def wait_until(self, when: float | None, wake: asyncio.Event) -> None:
        """Return once virtual time reaches `when` (None: never) or `wake` is set."""
        await self._wait(when, wake, call=False)

    # --- for tests and in-process functions ------------------------------------------------

    def datetime(self) -> datetime:
        """The virtual time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep in virtual time, as an in-flight call (the harness counts it as waiting on time)."""
        await self._wait(self._now + max(0.0, seconds), None, call=True)

    @property
    def sleeping_calls(self) -> int:
        """In-flight calls currently waiting for virtual time (see `sleep`)."""
        return sum(1 for w in self._waiters if w.call and w.waiting)

    @property
    def settled(self) -> bool:
        """Whether every waiter is still waiting: none was woken and has yet to run on."""
        return all(w.waiting for w in self._waiters)

    def next_deadline(self) -> float | None:
        """The earliest time a waiter waits for, or None."""
        pending = [w.when for w in self._waiters if w.waiting and w.when != float("inf")]
        return min(pending) if pending else None

    async def advance(self, delta: timedelta | float) -> None:
        """Move time forward by `delta`, waking every waiter due on the way, in time order."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; cannot advance by {seconds} s")
        await self.advance_to(self._now + seconds)

    async def advance_to(self, when: float) -> None:
        """Move time forward to `when`, one due instant at a time."""
        while (due := self.next_deadline()) is not None and due <= when:
            await self.step(due)
        self._now = max(self._now, when)

    async def step(self, when: float) -> None:
        """Move time to `when` and wake the waiters due by then; return once each has resumed.

        A woken waiter's owner runs on (e.g. the runtime's timer loop delivers what came due)
        until its next await before this returns.
        """
        self._now = max(self._now, when)
        woken = sorted(w for w in self._waiters if w.when <= self._now and w.waiting)
        for waiter in woken:
            waiter.reached.set_result(None)
        if woken:
            await asyncio.wait([w.returned for w in woken])

    async def changed(self) -> None:
        """Return after the next change in who is waiting."""
        if self._changed is None:
            self._changed = asyncio.Event()
        await self._changed.wait()

    # --- internals -------------------------------------------------------------------------

    async def _wait(self, when: float | None, wake: asyncio.Event | None, *, call: bool) -> None:
        if when is not None and when <= self._now:
            return
        if wake is not None and wake.is_set():
            return
        loop = asyncio.get_running_loop()
        waiter = _Waiter(
            when if when is not None else float("inf"), next(self._seq),
            loop.create_future(), loop.create_future(), call, wake,
        )
        self._waiters.append(waiter)
        self._notify()
        waits: list[asyncio.Future[Any]] = [waiter.reached]
        woken_by = None if wake is None else asyncio.ensure_future(wake.wait())
        if woken_by is not None:
            waits.append(woken_by)
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if woken_by is not None:
                woken_by.cancel()
            self._waiters.remove(waiter)
            if not waiter.reached.done():
                waiter.reached.cancel()
            # Set after the owner runs on to its next await: `step` waits for exactly that.
            loop.call_soon(_resolve, waiter.returned)
            self._notify()

    def _notify(self) -> None:
        changed = self._changed
        if changed is not None:
            self._changed = None
            changed.set()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
