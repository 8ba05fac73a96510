"""VirtualClock on its own: time moves only when told, waiters wake in time order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from baton.testing import VirtualClock


async def test_waiters_wake_in_time_order_one_instant_at_a_time() -> None:
    clock = VirtualClock(start=1000.0)
    woken: list[tuple[str, float]] = []

    async def wait(name: str, when: float) -> None:
        await clock.wait_until(when, asyncio.Event())
        woken.append((name, clock.now()))

    tasks = [asyncio.ensure_future(wait(n, w)) for n, w in [("c", 1030), ("a", 1010), ("b", 1020)]]
    await asyncio.sleep(0)  # let the waiters register (no time passes on this clock)
    assert clock.next_deadline() == 1010
    await clock.advance(timedelta(seconds=25))
    assert woken == [("a", 1010), ("b", 1020)]  # each saw its own instant, not the end
    assert clock.now() == 1025
    await clock.advance(5)
    assert woken[-1] == ("c", 1030)
    await asyncio.gather(*tasks)


async def test_a_wake_event_ends_a_wait_early_and_never_means_none() -> None:
    clock = VirtualClock()
    wake = asyncio.Event()
    waiting = asyncio.ensure_future(clock.wait_until(None, wake))
    await asyncio.sleep(0)
    assert clock.next_deadline() is None and clock.settled
    await clock.advance(timedelta(days=365))
    assert not waiting.done()
    wake.set()
    assert not clock.settled  # woken, not yet run on
    await waiting
    assert clock.settled


async def test_sleeping_calls_are_counted() -> None:
    clock = VirtualClock()
    sleeper = asyncio.ensure_future(clock.sleep(60))
    await asyncio.sleep(0)
    assert clock.sleeping_calls == 1
    await clock.advance(60)
    await sleeper
    assert clock.sleeping_calls == 0


async def test_time_only_moves_forward() -> None:
    clock = VirtualClock(datetime(2031, 5, 6, tzinfo=UTC))
    assert clock.datetime() == datetime(2031, 5, 6, tzinfo=UTC)
    with pytest.raises(ValueError, match="only moves forward"):
        await clock.advance(-1)
