"""What the engine reads and writes: an execution's progress and the commands for its host.

Both are plain data. `Execution` (with its `Run`s) is everything the engine knows about one
execution and round-trips losslessly through JSON, so a host can store it anywhere between two
events; the commands are what one engine call asks the host to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ABORTED",
    "FAILED",
    "RUNNING",
    "SUCCEEDED",
    "TIMED_OUT",
    "CancelTimer",
    "Command",
    "Execution",
    "ExecutionFinished",
    "InvokeTask",
    "Run",
    "StartTimer",
]

# Execution statuses (Step Functions' names).
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
ABORTED = "ABORTED"


# =============================================================================================
#  Commands
# =============================================================================================


@dataclass(frozen=True, slots=True)
class InvokeTask:
    """Call `resource` with `input`; answer with task_succeeded/task_failed(task_id)."""

    task_id: str
    resource: str
    input: Any
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Call timer_fired(timer_id) at `fire_at` (seconds since the epoch, same clock as `now`)."""

    timer_id: str
    fire_at: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """The timer is no longer needed (firing it anyway is harmless)."""

    timer_id: str


@dataclass(frozen=True, slots=True)
class ExecutionFinished:
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None


Command = InvokeTask | StartTimer | CancelTimer | ExecutionFinished


# =============================================================================================
#  Progress (plain data)
# =============================================================================================


@dataclass(slots=True)
class Run:
    """One thread of states: the execution's top level, a Parallel branch or a Map iteration.

    A run is always in one state (`state`, entered with `input`). It is either moving (inside
    an engine call) or waiting for one thing: a task result, a timer (Wait, retry backoff) or
    its children (a Parallel/Map state's branches or iterations, tracked in `fan`).
    """

    id: str
    block: int  # index into StateMachine.blocks
    parent: str | None = None  # the run whose Parallel/Map state started this one
    slot: int = 0  # branch index or item index in the parent
    state: str = ""
    input: Any = None  # the current state's raw input
    entered_at: float = 0.0
    entered_event: int = 0
    retry_count: int = 0
    attempts: list[int] = field(default_factory=list)  # retries made, per retrier
    waiting: str | None = None  # None | "task" | "wait" | "retry" | "children"
    task_id: str | None = None
    timer_id: str | None = None  # the Wait, retry-backoff or task-timeout timer
    heartbeat_id: str | None = None
    heartbeat_seconds: float | None = None
    value: Any = None  # the effective input kept by a waiting Wait state
    fan: dict[str, Any] | None = None  # Parallel/Map bookkeeping

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        data["attempts"] = list(self.attempts)
        if self.fan is not None:
            data["fan"] = {**self.fan, "results": list(self.fan["results"]),
                           "running": list(self.fan["running"])}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        run = cls(**data)
        run.attempts = list(run.attempts)
        if run.fan is not None:
            run.fan = {**run.fan, "results": list(run.fan["results"]),
                       "running": list(run.fan["running"])}
        return run


@dataclass(slots=True)
class Execution:
    """All of one execution's progress. `to_json()`/`from_json()` round-trip it losslessly."""

    name: str
    id: str
    input: Any
    start_time: float
    seed: str
    status: str = RUNNING
    output: Any = None
    error: str | None = None
    cause: str | None = None
    end_time: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, Run] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)  # pending task id -> run id
    timers: dict[str, list[Any]] = field(default_factory=dict)  # timer id -> [run id, purpose]
    counter: int = 0  # for run, task and timer ids
    draws: int = 0  # random numbers drawn so far

    @property
    def finished(self) -> bool:
        return self.status != RUNNING

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "id": self.id, "input": self.input,
            "start_time": self.start_time, "seed": self.seed, "status": self.status,
            "output": self.output, "error": self.error, "cause": self.cause,
            "end_time": self.end_time, "history": list(self.history),
            "runs": {key: run.to_json() for key, run in self.runs.items()},
            "tasks": dict(self.tasks),
            "timers": {key: list(value) for key, value in self.timers.items()},
            "counter": self.counter, "draws": self.draws,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Execution:
        return cls(
            name=data["name"], id=data["id"], input=data["input"],
            start_time=data["start_time"], seed=data["seed"], status=data["status"],
            output=data.get("output"), error=data.get("error"), cause=data.get("cause"),
            end_time=data.get("end_time"), history=list(data.get("history", ())),
            runs={key: Run.from_json(run) for key, run in data.get("runs", {}).items()},
            tasks=dict(data.get("tasks", {})),
            timers={key: list(value) for key, value in data.get("timers", {}).items()},
            counter=data.get("counter", 0), draws=data.get("draws", 0),
        )

    def states_entered(self) -> list[str]:
        """The names of the states entered so far, in history order."""
        return [e["name"] for e in self.history if e["type"].endswith("StateEntered")]
