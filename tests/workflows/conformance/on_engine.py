"""Run a case on the engine alone: a virtual clock and in-process Lambda handlers.

Waits, retry backoff, timeouts and sleeping handlers take no real time: the runner keeps the
pending timers and task results in a queue ordered by virtual time and delivers them in order.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from typing import Any

from baton.workflows.definition import parse_state_machine
from baton.workflows.engine import (
    CancelTimer,
    Command,
    Engine,
    Execution,
    ExecutionFinished,
    InvokeTask,
    StartTimer,
)
from tests.workflows.conformance.cases import Case, Outcome
from tests.workflows.conformance.lambdas import LambdaSimulator

# The virtual clock starts here (2023-11-14T22:13:20Z): after every recorded past timestamp.
START_TIME = 1_700_000_000.0


class Stalled(RuntimeError):
    """The execution is still running but nothing is left to deliver (or it never ends)."""


def run_case(
    case: Case, *, roundtrip: bool = False, start_time: float = START_TIME,
    max_events: int = 100_000, observe: Callable[[Execution, list[Command]], None] | None = None,
) -> Outcome:
    """Run a case on the engine with a virtual clock and in-process Lambda handlers.

    With `roundtrip`, the execution is replaced by `Execution.from_json(to_json())` through real
    JSON text after every event, and the round trip must be lossless. `observe` sees the
    execution and the commands after every event.
    """
    machine = parse_state_machine(case.definition, file=case.key)
    engine = Engine(machine, name=case.name)
    lambdas = LambdaSimulator(case.lambdas, seed=case.key)
    pending: list[tuple[float, int, str, tuple[Any, ...]]] = []
    cancelled: set[str] = set()
    log: list[Command] = []
    counter = 0

    def schedule(at: float, kind: str, *payload: Any) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(pending, (at, counter, kind, payload))

    def apply(commands: list[Command], now: float) -> None:
        log.extend(commands)
        for command in commands:
            if isinstance(command, InvokeTask):
                result = lambdas.invoke(command.resource, command.input, now,
                                        command.timeout_seconds)
                at = now + result.duration
                if result.error is None:
                    schedule(at, "succeeded", command.task_id, result.output)
                else:
                    schedule(at, "failed", command.task_id, result.error, result.cause)
            elif isinstance(command, StartTimer):
                cancelled.discard(command.timer_id)
                schedule(max(command.fire_at, now), "timer", command.timer_id)
            elif isinstance(command, CancelTimer):
                cancelled.add(command.timer_id)

    def settle(execution: Execution, commands: list[Command]) -> Execution:
        if observe is not None:
            observe(execution, commands)
        if not roundtrip:
            return execution
        text = json.dumps(execution.to_json())
        restored = Execution.from_json(json.loads(text))
        again = json.dumps(restored.to_json())
        if again != text:
            raise AssertionError(f"{case.key}: Execution JSON round trip is lossy")
        return restored

    now = start_time
    execution, commands = engine.start(case.input, name=f"{case.name}-run", now=now,
                                       seed=case.key)
    execution = settle(execution, commands)
    apply(commands, now)
    events = 0
    while not execution.finished:
        if not pending:
            raise Stalled(f"{case.key}: the execution is RUNNING but nothing is pending")
        events += 1
        if events > max_events:
            raise Stalled(f"{case.key}: more than {max_events} events")
        now, _, kind, payload = heapq.heappop(pending)
        if kind == "timer":
            if payload[0] in cancelled:
                continue
            commands = engine.timer_fired(execution, payload[0], now)
        elif kind == "succeeded":
            commands = engine.task_succeeded(execution, payload[0], payload[1], now)
        else:
            commands = engine.task_failed(execution, payload[0], payload[1], payload[2], now)
        execution = settle(execution, commands)
        apply(commands, now)
    finished = [c for c in log if isinstance(c, ExecutionFinished)]
    assert len(finished) == 1, f"{case.key}: {len(finished)} ExecutionFinished commands"
    return Outcome(
        status=execution.status, output=execution.output, error=execution.error,
        cause=execution.cause, states_entered=execution.states_entered(),
        duration=(execution.end_time or now) - start_time, execution=execution, commands=log,
    )
