"""Workflows on virtual time: a day-long Wait and retries with backoff in well under a second."""

from __future__ import annotations

import time
from datetime import timedelta

from baton.module import load_module_text
from baton.tasks import Tasks
from baton.testing import Harness

tasks = Tasks()
ATTEMPTS: dict[str, int] = {}


class Flaky(Exception):
    """Fails the first attempts of a task."""


@tasks.task("trip/book")
def book(trip: dict) -> dict:
    ATTEMPTS[trip["id"]] = ATTEMPTS.get(trip["id"], 0) + 1
    if ATTEMPTS[trip["id"]] <= trip["failures"]:
        raise Flaky(f"attempt {ATTEMPTS[trip['id']]} failed")
    return {"booking": f"b-{trip['id']}", "attempts": ATTEMPTS[trip["id"]]}


@tasks.task("trip/remind")
def remind(trip: dict) -> dict:
    return {"reminded": trip["id"]}


MODULE = load_module_text("""
kind: baton.workflows.v1/workflow
spec:
  id: trip/plan
  definition:
    StartAt: Book
    States:
      Book:
        Type: Task
        Resource: trip/book
        TimeoutSeconds: 30
        Retry: [{ErrorEquals: [Flaky], IntervalSeconds: 60, BackoffRate: 2, MaxAttempts: 3,
                 JitterStrategy: FULL}]
        ResultPath: $.booking
        Next: WaitADay
      WaitADay: {Type: Wait, Seconds: 86400, Next: Remind}
      Remind: {Type: Task, Resource: trip/remind, ResultPath: $.reminder, End: true}
---
kind: io.statefun.endpoints.v2/http
spec: {functions: trip/*, urlPathTemplate: "http://unused.invalid/statefun"}
""", "module.yaml")


def entered(history: list[dict]) -> list[str]:
    return [e["name"] for e in history if e["type"].endswith("StateEntered")]


async def test_a_day_long_wait_and_retries_with_backoff_take_no_real_time() -> None:
    ATTEMPTS.clear()
    started = time.perf_counter()
    async with Harness(MODULE, tasks.functions) as h:
        address = await h.start_workflow("trip/plan", "t1", {"id": "t1", "failures": 2})
        await h.until_idle(timers=True)
        execution = h.execution(address)
        wall = time.perf_counter() - started
    assert execution is not None and execution.status == "SUCCEEDED", execution
    assert execution.output["booking"] == {"booking": "b-t1", "attempts": 3}
    assert execution.output["reminder"] == {"reminded": "t1"}
    assert entered(execution.history) == ["Book", "WaitADay", "Remind"]
    # A day and two backoffs (at most 60 s and 120 s with full jitter) passed on the virtual clock.
    elapsed = execution.end_time - execution.start_time
    assert 86400 < elapsed <= 86400 + 180, elapsed
    assert ATTEMPTS["t1"] == 3
    assert wall < 1.0, f"{wall:.3f} s of wall time"


async def test_advance_moves_a_workflow_exactly_as_far_as_its_waits() -> None:
    ATTEMPTS.clear()
    async with Harness(MODULE, tasks.functions) as h:
        address = await h.start_workflow("trip/plan", "t2", {"id": "t2", "failures": 0})
        await h.until_idle()
        assert h.execution(address).status == "RUNNING"
        assert entered(h.execution(address).history) == ["Book", "WaitADay"]
        await h.advance(timedelta(hours=23, minutes=59))
        assert h.execution(address).status == "RUNNING"
        await h.advance(timedelta(minutes=1))
        execution = h.execution(address)
        assert execution.status == "SUCCEEDED"
        assert execution.end_time == execution.start_time + 86400  # nothing else took time


async def test_auto_mode_skips_time_while_the_test_waits_for_a_result() -> None:
    ATTEMPTS.clear()
    async with Harness(MODULE, tasks.functions, auto=True) as h:
        address = await h.start_workflow("trip/plan", "t3", {"id": "t3", "failures": 1})
        execution = await h.result(address)
        assert execution.status == "SUCCEEDED"
        assert h.now().timestamp() == execution.end_time


async def test_manual_mode_does_not_skip_time_and_says_so() -> None:
    async with Harness(MODULE, tasks.functions, timeout=0.2) as h:
        address = await h.start_workflow("trip/plan", "t4", {"id": "t4", "failures": 0})
        try:
            await h.result(address)
        except TimeoutError as error:
            message = str(error)
        else:
            raise AssertionError("the execution finished without the clock moving")
        assert "delayed=1" in message  # the 24 h Wait, not fired
        assert "auto=True" in message


async def _history(seed: str) -> list[dict]:
    ATTEMPTS.clear()
    async with Harness(MODULE, tasks.functions, seed=seed) as h:
        address = await h.start_workflow("trip/plan", "same-id", {"id": "same-id", "failures": 2})
        await h.until_idle(timers=True)
        execution = h.execution(address)
        assert execution is not None and execution.status == "SUCCEEDED"
        return execution.history


async def test_same_seed_same_history_timestamps_and_jitter_included() -> None:
    first = await _history("a")
    assert first == await _history("a")
    # The jittered backoffs differ with another seed, so the timestamps do.
    assert [e["timestamp"] for e in first] != [e["timestamp"] for e in await _history("b")]
