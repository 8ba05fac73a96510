"""The runtime's clock: wall time for timers, TTLs and timestamps, taken in one place.

The dispatcher, timers and invoker read time only through a `Clock`, so a test (or
`baton.testing`) can swap in a virtual clock that it advances itself.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    async def wait_until(self, when: float | None, wake: asyncio.Event) -> None:
        """Return once the clock reaches `when` (None: never) or `wake` is set."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> float:
        return time.time()

    async def wait_until(self, when: float | None, wake: asyncio.Event) -> None:
        timeout = None if when is None else max(0.0, when - time.time())
        try:
            await asyncio.wait_for(wake.wait(), timeout)
        except TimeoutError:
            pass


SYSTEM_CLOCK = SystemClock()
