"""The execution engine: a pure, deterministic, event-driven stepper for one state machine.

The engine does no I/O and reads no clock. Each call takes the execution's progress (an
`Execution`, plain JSON-serialisable data), one event and the current time, advances every
branch that can move, and returns the commands the host must carry out:

- `InvokeTask`: call a Task's resource with an input; report back with `task_succeeded` or
  `task_failed` using the same `task_id`.
- `StartTimer` / `CancelTimer`: deliver `timer_fired(timer_id)` at `fire_at` (waits, retry
  backoff, task and execution timeouts), or never.
- `ExecutionFinished`: the execution has ended (SUCCEEDED, FAILED, TIMED_OUT or ABORTED).

Delivery may be at-least-once: a task or timer id is used for one attempt only, so duplicate,
late (after a timeout) or unknown events are ignored. Given the same events at the same times,
an execution always takes the same steps, random jitter included (it is drawn from a generator
seeded per execution).

Semantics follow AWS Step Functions (JSONPath) and are checked against executions recorded on
AWS (the harness in `tests/workflows/conformance`). The paths, templates, intrinsic functions
and choice rules come from `baton.workflows.asl`, through `state_data`; the progress and
command types are in `execution`, the failure rules in `failures`.

The stepper itself stays one class: state handlers, Retry/Catch and Parallel/Map fan-out all
advance the same runs through one work queue and one set of bookkeeping (ids, timers, history
events), and a transition often crosses all three (a failed Map iteration cancels its siblings,
then the Map state's Catch moves its run on), so splitting them would spread one transition
over several modules.
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from baton.workflows.asl import choice as asl_choice
from baton.workflows.asl import errors as asl_errors
from baton.workflows.asl.errors import StatesError
from baton.workflows.definition import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
    parse_timestamp,
)

# The progress and command types are part of the engine's interface: importable from here.
from baton.workflows.execution import (
    ABORTED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    TIMED_OUT,
    CancelTimer,
    Command,
    Execution,
    ExecutionFinished,
    InvokeTask,
    Run,
    StartTimer,
)
from baton.workflows.failures import (
    HEARTBEAT_TIMEOUT,
    RUNTIME,
    TIMEOUT,
    StateFailure,
    error_matches,
    error_of,
    runtime_error,
)
from baton.workflows.state_data import (
    call_asl,
    compact_json,
    dynamic,
    input_path,
    is_integer,
    max_concurrency,
    output_path,
    positive,
    render,
    result_path,
    select,
    text,
)

__all__ = [
    "ABORTED",
    "FAILED",
    "RUNNING",
    "SUCCEEDED",
    "TIMED_OUT",
    "CancelTimer",
    "Command",
    "Engine",
    "Execution",
    "ExecutionFinished",
    "InvokeTask",
    "Run",
    "StartTimer",
]

# AWS caps an execution's history at 25,000 events; an execution that would exceed it fails.
DEFAULT_HISTORY_LIMIT = 25_000


# =============================================================================================
#  The engine
# =============================================================================================


@dataclass(slots=True)
class _Step:
    """One engine call: the execution, the time, and what is left to do."""

    execution: Execution
    now: float
    commands: list[Command] = field(default_factory=list)
    queue: deque[tuple[Any, ...]] = field(default_factory=deque)


class Engine:
    """Runs executions of one state machine. Stateless: all progress is in `Execution`."""

    def __init__(
        self, machine: StateMachine, *, name: str = "StateMachine", arn: str | None = None,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        self.machine = machine
        self.name = name
        self.arn = arn or f"arn:baton:states:::stateMachine:{name}"
        self.history_limit = history_limit

    # --- the public events -------------------------------------------------------------------

    def start(
        self, input: Any, *, name: str, now: float, seed: str | None = None,
        execution_id: str | None = None,
    ) -> tuple[Execution, list[Command]]:
        """A new execution of `input`; `seed` (default: name and time) drives jitter."""
        execution = Execution(
            name=name,
            id=execution_id or f"{self.arn.replace(':stateMachine:', ':execution:')}:{name}",
            input=input, start_time=now, seed=seed if seed is not None else f"{name}@{now!r}",
        )
        step = _Step(execution, now)
        self._event(step, None, "ExecutionStarted", input=input, name=name)
        if self.machine.timeout_seconds is not None:
            self._start_timer(step, None, "execution", now + self.machine.timeout_seconds)
        root = self._new_run(step, self.machine.root.index, None, 0)
        step.queue.append(("enter", root.id, self.machine.start_at, input))
        return execution, self._drain(step)

    def task_succeeded(self, execution: Execution, task_id: str, output: Any,
                       now: float) -> list[Command]:
        """The task `task_id` returned `output` (ignored unless that task is pending)."""
        step = _Step(execution, now)
        run = self._take_task(step, task_id)
        if run is None:
            return []
        state = self._state(run)
        self._event(step, run, "TaskSucceeded", name=state.name, taskId=task_id, output=output)
        self._guarded(step, run, self._task_result, step, run, state, output)
        return self._drain(step)

    def task_failed(self, execution: Execution, task_id: str, error: str | None,
                    cause: str | None, now: float) -> list[Command]:
        """The task `task_id` failed with `error` and `cause` (ignored unless pending)."""
        step = _Step(execution, now)
        run = self._take_task(step, task_id)
        if run is None:
            return []
        state = self._state(run)
        self._event(step, run, "TaskFailed", name=state.name, taskId=task_id, error=error,
                    cause=cause)
        self._state_failed(step, run, error, cause)
        return self._drain(step)

    def task_heartbeat(self, execution: Execution, task_id: str, now: float) -> list[Command]:
        """The task `task_id` is alive: restart its HeartbeatSeconds clock."""
        step = _Step(execution, now)
        run_id = execution.tasks.get(task_id) if execution.status == RUNNING else None
        run = execution.runs.get(run_id) if run_id else None
        if run is None or run.heartbeat_id is None or run.heartbeat_seconds is None:
            return []
        self._cancel_timer(step, run.heartbeat_id)
        run.heartbeat_id = self._start_timer(step, run, "heartbeat", now + run.heartbeat_seconds)
        return step.commands

    def timer_fired(self, execution: Execution, timer_id: str, now: float) -> list[Command]:
        """The timer `timer_id` is due (ignored unless it is pending)."""
        if execution.status != RUNNING or timer_id not in execution.timers:
            return []
        step = _Step(execution, now)
        run_id, purpose = execution.timers.pop(timer_id)
        if purpose == "execution":
            self._event(step, None, "ExecutionTimedOut")
            self._finish(step, TIMED_OUT)
            return step.commands
        run = execution.runs.get(run_id)
        if run is None or timer_id not in (run.timer_id, run.heartbeat_id):
            return []
        if purpose == "wait":
            run.timer_id, run.waiting = None, None
            state = self._state(run)
            self._guarded(step, run, self._wait_done, step, run, state)
        elif purpose == "retry":
            run.timer_id, run.waiting = None, None
            self._attempt(step, run)
        elif purpose in ("timeout", "heartbeat"):
            state = self._state(run)
            task_id = run.task_id
            if task_id is not None:
                execution.tasks.pop(task_id, None)
            self._clear_task(step, run, fired=timer_id)
            error = TIMEOUT if purpose == "timeout" else HEARTBEAT_TIMEOUT
            self._event(step, run, "TaskTimedOut", name=state.name, taskId=task_id, error=error)
            self._state_failed(step, run, error, None)
        return self._drain(step)

    def abort(self, execution: Execution, now: float, *, error: str | None = None,
              cause: str | None = None) -> list[Command]:
        """Stop a running execution (like StopExecution): status ABORTED."""
        if execution.status != RUNNING:
            return []
        step = _Step(execution, now)
        self._event(step, None, "ExecutionAborted", error=error, cause=cause)
        self._finish(step, ABORTED, error=error, cause=cause)
        return step.commands

    # --- the work loop -----------------------------------------------------------------------

    def _drain(self, step: _Step) -> list[Command]:
        """Carry out queued transitions until every run waits or the execution has ended."""
        execution = step.execution
        while step.queue and execution.status == RUNNING:
            kind, run_id, *args = step.queue.popleft()
            run = execution.runs.get(run_id)
            if run is None:  # cancelled meanwhile
                continue
            if kind == "enter":
                self._enter(step, run, *args)
            elif kind == "done":
                self._run_done(step, run, *args)
            elif kind == "failed":
                self._run_failed(step, run, *args)
            if len(execution.history) > self.history_limit and execution.status == RUNNING:
                self._event(step, None, "ExecutionFailed", error=RUNTIME,
                            cause=f"The execution reached the limit of {self.history_limit} "
                                  f"history events.")
                self._finish(step, FAILED, error=RUNTIME,
                             cause=f"The execution reached the limit of {self.history_limit} "
                                   f"history events.")
        return step.commands

    def _enter(self, step: _Step, run: Run, name: str, value: Any) -> None:
        state = self.machine.blocks[run.block].states[name]
        run.state, run.input, run.entered_at = name, value, step.now
        run.retry_count = 0
        run.attempts = [0] * len(getattr(state, "retry", ()))
        run.entered_event = self._event(step, run, f"{state.type}StateEntered", name=name,
                                        input=value)
        self._attempt(step, run)

    def _attempt(self, step: _Step, run: Run) -> None:
        """Run the current state (again, after a retry backoff)."""
        state = self._state(run)
        handler = _HANDLERS[type(state)]
        self._guarded(step, run, handler, self, step, run, state)

    def _guarded(self, step: _Step, run: Run, function, *args: Any) -> None:
        """Call a state's code; a failure goes through the state's Retry and Catch."""
        try:
            function(*args)
        except StateFailure as failure:
            self._state_failed(step, run, failure.error, failure.cause)
        except StatesError as failure:  # AWS reports these with the state as a prefix
            error, cause = error_of(failure)
            cause = asl_errors.state_failure_cause(run.state, run.entered_event, cause)
            self._state_failed(step, run, error, cause)

    # --- state handlers ----------------------------------------------------------------------

    def _pass(self, step: _Step, run: Run, state: PassState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        if state.parameters is not None:
            value = render(state.parameters, value, context, "Parameters")
        result = copy.deepcopy(state.result) if state.has_result else value
        output = result_path(state.result_path, run.input, result)
        self._exit(step, run, state, output_path(state.output_path, output, context))

    def _choice(self, step: _Step, run: Run, state: ChoiceState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        target = call_asl(asl_choice.choose, list(state.choices), value, context) or state.default
        if target is None:
            raise StateFailure("States.NoChoiceMatched",
                               f"No choice rule of state '{state.name}' matched its input and "
                               f"it has no Default.")
        output = output_path(state.output_path, value, context)
        self._exit(step, run, state, output, target=target)

    def _wait(self, step: _Step, run: Run, state: WaitState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        if state.seconds is not None:
            fire_at = run.entered_at + state.seconds
        elif state.timestamp is not None:
            fire_at = parse_timestamp(state.timestamp) or 0.0
        elif state.seconds_path is not None:
            seconds = select(state.seconds_path, value, context, "SecondsPath")
            if not is_integer(seconds):
                raise runtime_error(f"The SecondsPath parameter cannot be parsed as a long "
                                    f"value: {state.seconds_path} == {text(seconds)}")
            if seconds < 0:
                raise runtime_error(f"The SecondsPath parameter references a negative value: "
                                    f"{state.seconds_path} == {text(seconds)}")
            fire_at = step.now + int(seconds)
        else:
            assert state.timestamp_path is not None
            stamp = select(state.timestamp_path, value, context, "TimestampPath")
            parsed = parse_timestamp(stamp)
            if parsed is None:
                raise runtime_error(f"The TimestampPath parameter does not reference a valid "
                                    f"ISO-8601 extended offset date-time format string: "
                                    f"{state.timestamp_path} == {text(stamp)}")
            fire_at = parsed
        if fire_at <= step.now:
            self._exit(step, run, state, output_path(state.output_path, value, context))
            return
        run.value, run.waiting = value, "wait"
        run.timer_id = self._start_timer(step, run, "wait", fire_at)

    def _wait_done(self, step: _Step, run: Run, state: WaitState) -> None:
        value, run.value = run.value, None
        self._exit(step, run, state, output_path(state.output_path, value,
                                                 self._context(step, run)))

    def _succeed(self, step: _Step, run: Run, state: SucceedState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        self._exit(step, run, state, output_path(state.output_path, value, context))

    def _fail(self, step: _Step, run: Run, state: FailState) -> None:
        context = self._context(step, run)
        error = state.error
        if state.error_path is not None:
            error = dynamic(state.error_path, run.input, context, "ErrorPath")
        cause = state.cause
        if state.cause_path is not None:
            cause = dynamic(state.cause_path, run.input, context, "CausePath")
        step.queue.append(("failed", run.id, error, cause))

    def _task(self, step: _Step, run: Run, state: TaskState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        if state.parameters is not None:
            value = render(state.parameters, value, context, "Parameters")
        timeout: float | None = state.timeout_seconds
        if state.timeout_seconds_path is not None:
            timeout = positive(state.timeout_seconds_path, value, context, "TimeoutSecondsPath")
        heartbeat: float | None = state.heartbeat_seconds
        if state.heartbeat_seconds_path is not None:
            heartbeat = positive(state.heartbeat_seconds_path, value, context,
                                 "HeartbeatSecondsPath")
        execution = step.execution
        task_id = self._new_id(step, "t")
        execution.tasks[task_id] = run.id
        run.task_id, run.waiting = task_id, "task"
        self._event(step, run, "TaskScheduled", name=state.name, taskId=task_id,
                    resource=state.resource, input=value, timeoutSeconds=timeout,
                    heartbeatSeconds=heartbeat)
        step.commands.append(InvokeTask(task_id, state.resource, value, timeout, heartbeat))
        if timeout is not None:
            run.timer_id = self._start_timer(step, run, "timeout", step.now + timeout)
        if heartbeat is not None:
            run.heartbeat_seconds = heartbeat
            run.heartbeat_id = self._start_timer(step, run, "heartbeat", step.now + heartbeat)

    def _task_result(self, step: _Step, run: Run, state: TaskState, result: Any) -> None:
        self._finish_with_result(step, run, state, result)

    def _parallel(self, step: _Step, run: Run, state: ParallelState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        if state.parameters is not None:
            value = render(state.parameters, value, context, "Parameters")
        count = len(state.branches)
        run.fan = {"results": [None] * count, "left": count, "running": [], "next": count,
                   "limit": 0, "items": None, "input": None}
        run.waiting = "children"
        self._event(step, run, "ParallelStateStarted", name=state.name)
        for index, branch in enumerate(state.branches):
            child = self._new_run(step, branch.index, run.id, index)
            run.fan["running"].append(child.id)
            step.queue.append(("enter", child.id, branch.start_at, value))

    def _map(self, step: _Step, run: Run, state: MapState) -> None:
        context = self._context(step, run)
        value = input_path(state.input_path, run.input, context)
        items_path = state.items_path
        assert items_path is not None  # the parser refuses a null ItemsPath
        items = value if items_path == "$" else select(items_path, value, context, "ItemsPath")
        if not isinstance(items, list):
            raise runtime_error(f"Items of the Map state must be an array; ItemsPath "
                                f"'{state.items_path}' selected {compact_json(items)}")
        limit = state.max_concurrency
        if state.max_concurrency_path is not None:
            limit = max_concurrency(state.max_concurrency_path, value, context)
        run.fan = {"results": [None] * len(items), "left": len(items), "running": [],
                   "next": 0, "limit": limit, "items": items, "input": value}
        run.waiting = "children"
        self._event(step, run, "MapStateStarted", name=state.name, length=len(items))
        if not items:
            self._fan_complete(step, run, state)
            return
        self._map_launch(step, run, state)

    def _map_launch(self, step: _Step, run: Run, state: MapState) -> None:
        """Start iterations while MaxConcurrency allows."""
        fan = run.fan
        assert fan is not None
        while fan["next"] < len(fan["items"]) and (
            fan["limit"] == 0 or len(fan["running"]) < fan["limit"]
        ):
            index = fan["next"]
            fan["next"] += 1
            item = fan["items"][index]
            if state.item_selector is not None:
                context = self._context(step, run)
                context["Map"] = {"Item": {"Index": index, "Value": item}}
                item = render(state.item_selector, fan["input"], context, "ItemSelector")
            child = self._new_run(step, state.processor.index, run.id, index)
            fan["running"].append(child.id)
            self._event(step, run, "MapIterationStarted", name=state.name, index=index)
            step.queue.append(("enter", child.id, state.processor.start_at, item))

    def _fan_complete(self, step: _Step, run: Run, state: ParallelState | MapState) -> None:
        fan = run.fan
        assert fan is not None
        results = fan["results"]
        run.fan, run.waiting = None, None
        self._event(step, run, f"{state.type}StateSucceeded", name=state.name)
        self._finish_with_result(step, run, state, results)

    def _finish_with_result(self, step: _Step, run: Run,
                            state: TaskState | ParallelState | MapState, result: Any) -> None:
        """ResultSelector -> ResultPath -> OutputPath, then leave the state."""
        context = self._context(step, run)
        if state.result_selector is not None:
            result = render(state.result_selector, result, context, "ResultSelector")
        output = result_path(state.result_path, run.input, result)
        self._exit(step, run, state, output_path(state.output_path, output, context))

    # --- transitions -------------------------------------------------------------------------

    def _exit(self, step: _Step, run: Run, state: State, output: Any, *,
              target: str | None = None) -> None:
        self._event(step, run, f"{state.type}StateExited", name=state.name, output=output)
        target = target or state.next
        if target is None:  # End, Succeed
            step.queue.append(("done", run.id, output))
        else:
            step.queue.append(("enter", run.id, target, output))

    def _state_failed(self, step: _Step, run: Run, error: str | None, cause: str | None) -> None:
        """A state failed: retry it, catch the error, or fail the run."""
        state = self._state(run)
        self._cancel_children(step, run)  # a Parallel/Map that failed stops its branches
        self._clear_task(step, run)
        if error is None or not asl_errors.is_terminal(error):
            for index, retrier in enumerate(getattr(state, "retry", ())):
                if not error_matches(retrier.error_equals, error):
                    continue
                if run.attempts[index] < retrier.max_attempts:
                    delay = self._backoff(step, retrier, run.attempts[index])
                    run.attempts[index] += 1
                    run.retry_count += 1
                    run.waiting = "retry"
                    self._event(step, run, "StateRetryScheduled", name=state.name, error=error,
                                retryCount=run.retry_count, delaySeconds=delay)
                    run.timer_id = self._start_timer(step, run, "retry", step.now + delay)
                    return
                break  # the first matching retrier decides; it is exhausted
            for catcher in getattr(state, "catch", ()):
                if not error_matches(catcher.error_equals, error):
                    continue
                error_output = {"Error": error or "", "Cause": cause or ""}
                try:
                    output = result_path(catcher.result_path, run.input, error_output)
                except StatesError as failure:
                    error, cause = error_of(failure)
                    break
                self._exit(step, run, state, output, target=catcher.next)
                return
        step.queue.append(("failed", run.id, error, cause))

    def _backoff(self, step: _Step, retrier: Retrier, attempt: int) -> float:
        delay = retrier.interval_seconds * retrier.backoff_rate ** attempt
        if retrier.max_delay_seconds is not None:
            delay = min(delay, retrier.max_delay_seconds)
        if retrier.jitter_strategy == "FULL":
            delay = self._random(step).uniform(0.0, delay)
        return delay

    def _run_done(self, step: _Step, run: Run, output: Any) -> None:
        execution = step.execution
        if run.parent is None:
            self._event(step, None, "ExecutionSucceeded", output=output)
            self._finish(step, SUCCEEDED, output=output)
            return
        parent = execution.runs[run.parent]
        del execution.runs[run.id]
        fan = parent.fan
        assert fan is not None
        fan["results"][run.slot] = output
        fan["running"].remove(run.id)
        fan["left"] -= 1
        state = self._state(parent)
        if isinstance(state, MapState):
            self._event(step, parent, "MapIterationSucceeded", name=state.name, index=run.slot)
        if fan["left"] == 0:
            self._guarded(step, parent, self._fan_complete, step, parent, state)
        elif isinstance(state, MapState):
            self._guarded(step, parent, self._map_launch, step, parent, state)

    def _run_failed(self, step: _Step, run: Run, error: str | None, cause: str | None) -> None:
        execution = step.execution
        if run.parent is None:
            self._event(step, None, "ExecutionFailed", error=error, cause=cause)
            self._finish(step, FAILED, error=error, cause=cause)
            return
        parent = execution.runs[run.parent]
        del execution.runs[run.id]
        state = self._state(parent)
        assert parent.fan is not None
        parent.fan["running"].remove(run.id)
        if isinstance(state, MapState):
            self._event(step, parent, "MapIterationFailed", name=state.name, index=run.slot,
                        error=error, cause=cause)
        self._cancel_children(step, parent)
        self._event(step, parent, f"{state.type}StateFailed", name=state.name, error=error,
                    cause=cause)
        self._state_failed(step, parent, error, cause)

    def _cancel_children(self, step: _Step, run: Run) -> None:
        """Stop every branch/iteration still running under `run` (and theirs)."""
        if run.fan is None:
            return
        execution = step.execution
        state = self._state(run)
        for child_id in run.fan["running"]:
            child = execution.runs.pop(child_id, None)
            if child is None:
                continue
            self._cancel_children(step, child)
            self._clear_task(step, child)
            if child.task_id is not None:
                execution.tasks.pop(child.task_id, None)
            if isinstance(state, MapState):
                self._event(step, run, "MapIterationAborted", name=state.name, index=child.slot)
        run.fan, run.waiting = None, None

    def _finish(self, step: _Step, status: str, *, output: Any = None, error: str | None = None,
                cause: str | None = None) -> None:
        execution = step.execution
        execution.status, execution.end_time = status, step.now
        execution.output, execution.error, execution.cause = output, error, cause
        for timer_id in list(execution.timers):
            step.commands.append(CancelTimer(timer_id))
        execution.timers.clear()
        execution.tasks.clear()
        execution.runs.clear()
        step.queue.clear()
        step.commands.append(ExecutionFinished(status, output, error, cause))

    # --- bookkeeping -------------------------------------------------------------------------

    def _state(self, run: Run) -> State:
        return self.machine.blocks[run.block].states[run.state]

    def _new_id(self, step: _Step, kind: str) -> str:
        execution = step.execution
        execution.counter += 1
        return f"{_short(execution.seed)}-{kind}{execution.counter}"

    def _new_run(self, step: _Step, block: int, parent: str | None, slot: int) -> Run:
        execution = step.execution
        run_id = "root" if parent is None else self._new_id(step, "r")
        run = Run(id=run_id, block=block, parent=parent, slot=slot)
        execution.runs[run_id] = run
        return run

    def _start_timer(self, step: _Step, run: Run | None, purpose: str, fire_at: float) -> str:
        timer_id = self._new_id(step, "w")
        step.execution.timers[timer_id] = [run.id if run else None, purpose]
        step.commands.append(StartTimer(timer_id, fire_at))
        return timer_id

    def _cancel_timer(self, step: _Step, timer_id: str | None) -> None:
        if timer_id is not None and step.execution.timers.pop(timer_id, None) is not None:
            step.commands.append(CancelTimer(timer_id))

    def _take_task(self, step: _Step, task_id: str) -> Run | None:
        """The run waiting for `task_id`, which is no longer pending; None if stale."""
        execution = step.execution
        if execution.status != RUNNING:
            return None
        run_id = execution.tasks.pop(task_id, None)
        run = execution.runs.get(run_id) if run_id is not None else None
        if run is None or run.task_id != task_id:
            return None
        self._clear_task(step, run)
        return run

    def _clear_task(self, step: _Step, run: Run, fired: str | None = None) -> None:
        """Forget a run's task and cancel its timers (except the one that just fired)."""
        if run.task_id is not None:
            step.execution.tasks.pop(run.task_id, None)
        for timer_id in (run.timer_id, run.heartbeat_id):
            if timer_id is not None and timer_id != fired:
                self._cancel_timer(step, timer_id)
        run.task_id = run.timer_id = run.heartbeat_id = None
        run.heartbeat_seconds = None
        run.waiting = None

    def _event(self, step: _Step, run: Run | None, kind: str, **details: Any) -> int:
        history = step.execution.history
        event: dict[str, Any] = {"id": len(history) + 1, "type": kind, "timestamp": step.now}
        if run is not None and run.parent is not None:
            event["run"] = run.id
        event.update(details)
        history.append(event)
        return event["id"]

    def _random(self, step: _Step) -> random.Random:
        execution = step.execution
        generator = random.Random(f"{execution.seed}/{execution.draws}")
        execution.draws += 1
        return generator

    def _context(self, step: _Step, run: Run) -> dict[str, Any]:
        """The context object ($$) for the run's current state."""
        execution = step.execution
        return {
            "Execution": {
                "Id": execution.id, "Input": execution.input, "Name": execution.name,
                "StartTime": _iso(execution.start_time), "RedriveCount": 0,
            },
            "State": {
                "EnteredTime": _iso(run.entered_at), "Name": run.state,
                "RetryCount": run.retry_count,
            },
            "StateMachine": {"Id": self.arn, "Name": self.name},
        }


_HANDLERS = {
    PassState: Engine._pass,
    ChoiceState: Engine._choice,
    WaitState: Engine._wait,
    SucceedState: Engine._succeed,
    FailState: Engine._fail,
    TaskState: Engine._task,
    ParallelState: Engine._parallel,
    MapState: Engine._map,
}


def _iso(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _short(seed: str) -> str:
    return hashlib.sha1(seed.encode("utf-8")).hexdigest()[:8]
