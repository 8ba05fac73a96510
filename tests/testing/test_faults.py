"""Each fault injection: failed attempts (retried within the budget, or parking once it is spent),
slow replies, timeouts, and crashes of the runtime mid-call with a restart on the same store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baton.module.specs import TypeName
from baton.testing import Harness
from tests.testing.functions import CALLS, COMMAND, functions

COUNTER = TypeName("example", "counter")


@pytest.fixture
async def h():
    async with Harness(functions=functions, egress_topics=["counts"]) as harness:
        yield harness


async def test_failing_n_times_is_retried_with_backoff_and_then_succeeds(h: Harness) -> None:
    h.faults.fail("example/counter", times=3, error="HTTP 503")
    await h.send("example/counter/a", 1)
    await h.until_idle()
    assert h.state("example/counter/a") == {"count": 1}
    metrics = h.metrics.of(COUNTER)
    assert (metrics.invocation_failures, metrics.batches) == (3, 1)
    # Backoff as the async transport's: 2 ms x 2^n, on the virtual clock.
    assert h.now().timestamp() - h.runtime.started_at == pytest.approx(0.004 + 0.008 + 0.016, abs=1e-6)


async def test_failing_beyond_the_call_budget_parks_and_resume_recovers(h: Harness) -> None:
    fault = h.faults.fail("example/counter/b", times=None)
    await h.send("example/counter/b", 5)
    await h.send("example/counter/other", 1)  # another address of the type is not affected
    await h.until_idle()
    assert h.state("example/counter/other") == {"count": 1}
    reason = h.parked()["example/counter/b"]
    assert "within the call timeout of 120s" in reason and "injected failure" in reason
    assert h.now().timestamp() - h.runtime.started_at == pytest.approx(120, abs=0.01)
    assert fault.injected > 20  # backoff grows to 5 s: many attempts in two minutes
    h.faults.clear()
    assert h.resume("example/counter/b")
    await h.until_idle()
    assert h.state("example/counter/b") == {"count": 5}  # its message was kept


async def test_a_slow_reply_within_the_budget_is_waited_for(h: Harness) -> None:
    h.faults.slow("example/counter", by=timedelta(seconds=90))
    await h.send("example/counter/c", 2)
    await h.until_idle()
    assert h.state("example/counter/c") == {"count": 2}
    assert h.now().timestamp() - h.runtime.started_at == 90
    assert h.parked() == {}


async def test_a_timeout_parks_after_the_endpoints_call_budget(h: Harness) -> None:
    h.faults.time_out("example/counter/d")
    await h.send("example/counter/d", 2)
    await h.send("example/counter/d", 3)  # waits behind the batch in flight
    await h.until_idle()
    assert "no reply in time (injected timeout)" in h.parked()["example/counter/d"]
    assert h.now().timestamp() - h.runtime.started_at == 120
    assert h.state("example/counter/d") == {}
    h.resume("example/counter/d")
    await h.until_idle()
    assert h.state("example/counter/d") == {"count": 5}


async def test_a_crash_mid_call_restarts_and_resends_the_batch(tmp_path) -> None:
    CALLS.clear()
    async with Harness(functions=functions, egress_topics=["counts"], data_dir=tmp_path) as h:
        await h.send("example/counter/e", 1)
        await h.until_idle()
        h.faults.crash("example/counter/e")
        await h.send("example/counter/e", 10)
        await h.until_idle()
        assert h.crashes == 1
        # The function ran twice for the second message (at-least-once), its effect applied once.
        assert CALLS == ["e", "e", "e"]
        assert h.state("example/counter/e") == {"count": 11}
        assert [r.payload for r in await h.egress("counts")] == ["e=1", "e=11"]


async def test_an_explicit_crash_keeps_what_was_committed(tmp_path) -> None:
    async with Harness(functions=functions, egress_topics=["counts"], data_dir=tmp_path) as h:
        await h.send("example/counter/f", {"op": "remind", "after_s": 3600, "amount": 3}, type=COMMAND)
        await h.until_idle()
        await h.crash()  # the delayed message was committed with its epoch...
        assert h.runtime.status().delayed == 1
        await h.advance(timedelta(hours=1))  # ...and fires after the restart
        assert h.state("example/counter/f") == {"count": 3}


async def test_crash_needs_a_durable_store(h: Harness) -> None:
    with pytest.raises(RuntimeError, match="data_dir"):
        await h.crash()


def test_fault_targets_are_checked() -> None:
    harness = Harness(functions=functions)
    with pytest.raises(ValueError, match="namespace/type"):
        harness.faults.fail("counter")
    with pytest.raises(ValueError, match="at least 1"):
        harness.faults.fail("example/counter", times=0)
