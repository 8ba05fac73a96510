"""Run the recorded AWS Step Functions executions (`conformance/asl/`) and compare the results.

A case is one execution recorded on real AWS: a definition, an input, the expected result and,
for Task states, the Python source of the Lambda functions it called. `run_case` runs it on the
engine with a *virtual clock* (waits, backoff and timeouts take no real time) and the Lambda
handlers executed in-process; `compare` applies the comparison rules of the cases' README
(`cause_match`, `output_loose`, `states_entered`, `min_duration_s`) and lists every mismatch.

The pieces are separate so the same cases can later drive the real runtime: `load_cases`,
`LambdaSimulator` (a Lambda runtime in a function call) and `compare` do not depend on how the
execution was run; only `run_case` drives the engine directly.
"""

from __future__ import annotations

import builtins
import heapq
import json
import random
import re
import time as real_time
import traceback
import types
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
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

__all__ = [
    "Case",
    "LambdaResult",
    "LambdaSimulator",
    "Outcome",
    "START_TIME",
    "compare",
    "load_case",
    "load_cases",
    "load_matrix",
    "run_case",
]

# The virtual clock starts here (2023-11-14T22:13:20Z): after every recorded past timestamp.
START_TIME = 1_700_000_000.0
_LAMBDA_ARN = re.compile(r"arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?")
_INVOKE_INTEGRATION = "arn:aws:states:::lambda:invoke"


# =============================================================================================
#  Cases
# =============================================================================================


@dataclass(frozen=True, slots=True)
class Case:
    """One recorded execution (schema: conformance/asl/README.md)."""

    key: str  # "001-pass-result", "choice-operators/BooleanEquals-00"
    name: str
    definition: dict[str, Any]
    input: Any
    expected: dict[str, Any]
    lambdas: dict[str, str] = field(default_factory=dict)
    cause_match: str | None = None
    output_loose: tuple[tuple[tuple[str | int, ...], str], ...] = ()
    output_check: bool = True
    min_duration_s: float | None = None
    states_entered: tuple[str, ...] | None = None
    states_entered_order: str | None = None
    notes: str = ""

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> Case:
        entered = data.get("states_entered")
        return cls(
            key=key, name=data.get("name", key), definition=data["definition"],
            input=data.get("input"), expected=data["expected"],
            lambdas=dict(data.get("lambdas") or {}), cause_match=data.get("cause_match"),
            output_loose=tuple((tuple(item["path"]), item["match"])
                               for item in data.get("output_loose") or ()),
            output_check=data.get("output_check", True) is not False,
            min_duration_s=data.get("min_duration_s"),
            states_entered=tuple(entered) if entered is not None else None,
            states_entered_order=data.get("states_entered_order"),
            notes=data.get("notes", ""),
        )


def load_case(path: Path) -> Case:
    return Case.from_json(path.stem, json.loads(path.read_text()))


def load_cases(root: Path) -> list[Case]:
    """The numbered cases (`NNN-name.json`), in order."""
    return [load_case(path) for path in sorted(root.glob("[0-9][0-9][0-9]-*.json"))]


def load_matrix(root: Path) -> list[Case]:
    """Every run of `matrix/*.json` (keyed `<file>/<name>`)."""
    cases = []
    for path in sorted((root / "matrix").glob("*.json")):
        seen: Counter[str] = Counter()
        for data in json.loads(path.read_text())["cases"]:
            name = data.get("name", "case")
            seen[name] += 1
            suffix = f"~{seen[name]}" if seen[name] > 1 else ""
            cases.append(Case.from_json(f"{path.stem}/{name}{suffix}", data))
    return cases


# =============================================================================================
#  Lambda handlers in-process
# =============================================================================================


@dataclass(frozen=True, slots=True)
class LambdaResult:
    """What one invocation gave: an output, or Step Functions' error and cause."""

    output: Any = None
    error: str | None = None
    cause: str | None = None
    duration: float = 0.0  # virtual seconds the handler slept


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now


class _VirtualTime(types.ModuleType):
    """A `time` module whose clock is virtual: `sleep(n)` advances it instead of blocking."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__("time")
        self._clock = clock

    def time(self) -> float:
        return self._clock.now

    def time_ns(self) -> int:
        return int(self._clock.now * 1e9)

    def monotonic(self) -> float:
        return self._clock.now

    perf_counter = monotonic

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self._clock.now += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(real_time, name)


class _Context:
    """The parts of a Lambda context object handlers commonly use."""

    def __init__(self, name: str, request_id: str, clock: _Clock, deadline: float) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:111111111111:function:{name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "baton"
        self._clock = clock
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now) * 1000))


class LambdaSimulator:
    """Runs Python Lambda handlers in-process, with Lambda's and Step Functions' conventions.

    - The event is the task input, JSON round-tripped; the result is JSON round-tripped too.
      A handler returning bytes returns raw payload bytes: JSON if they parse, else a string.
    - A raised exception gives error = its class name and cause = the Lambda error payload
      `{"errorMessage", "errorType", "requestId", "stackTrace"}` as JSON.
    - `time.sleep(n)` in a handler advances the virtual clock by n seconds.
    """

    HANDLER_FILE = "/var/task/handler.py"

    def __init__(self, sources: dict[str, str], *, seed: str = "lambda") -> None:
        self.sources = sources
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._random = random.Random(seed)

    def function_for(self, resource: str, task_input: Any) -> tuple[str | None, Any, bool]:
        """(function name, payload, wrap result) for a Task resource, or (None, ...)."""
        if resource.startswith(_INVOKE_INTEGRATION):
            if isinstance(task_input, dict):
                match = _LAMBDA_ARN.fullmatch(str(task_input.get("FunctionName", "")))
                name = match.group(1) if match else str(task_input.get("FunctionName", ""))
                return name, task_input.get("Payload"), True
            return None, task_input, True
        match = _LAMBDA_ARN.fullmatch(resource)
        return (match.group(1) if match else None), task_input, False

    def invoke(self, resource: str, task_input: Any, now: float,
               timeout: float | None = None) -> LambdaResult:
        name, payload, wrap = self.function_for(resource, task_input)
        if name is None or name not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none"
            return LambdaResult(error="States.TaskFailed",
                                cause=f"no Lambda function for resource {resource!r} "
                                      f"(functions of this case: {known})")
        clock = _Clock(now)
        request_id = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        namespace = self._namespace(name, clock)
        context = _Context(name, request_id, clock, now + (timeout or 900.0))
        event = json.loads(json.dumps(payload))
        try:
            returned = namespace["handler"](event, context)
        except Exception as exc:  # the function failed: Step Functions' error convention
            return LambdaResult(error=type(exc).__name__,
                                cause=self._error_payload(name, exc, request_id),
                                duration=clock.now - now)
        try:
            output = self._payload(returned)
        except (TypeError, ValueError) as exc:  # what the Python runtime reports
            return LambdaResult(error="Runtime.MarshalError", cause=json.dumps({
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": [],
            }), duration=clock.now - now)
        if wrap:
            output = {"ExecutedVersion": "$LATEST", "Payload": output, "StatusCode": 200}
        return LambdaResult(output=output, duration=clock.now - now)

    def _namespace(self, name: str, clock: _Clock) -> dict[str, Any]:
        """The function's module globals (kept between invocations, like a warm container).

        `time` inside the handler (imported at module level or in the function) is one virtual
        time module per function, pointed at the clock of the current invocation.
        """
        namespace = self._namespaces.get(name)
        if namespace is None:
            fake_time = _VirtualTime(clock)

            def importer(module: str, globals_: Any = None, locals_: Any = None,
                         fromlist: Iterable[str] = (), level: int = 0) -> Any:
                if module == "time" and level == 0:
                    return fake_time
                return builtins.__import__(module, globals_, locals_, fromlist, level)

            namespace = {
                "__name__": "handler", "__file__": self.HANDLER_FILE,
                "__builtins__": {**vars(builtins), "__import__": importer},
                "__baton_time__": fake_time,
            }
            self._namespaces[name] = namespace
            exec(compile(self.sources[name], self.HANDLER_FILE, "exec"), namespace)
        namespace["__baton_time__"]._clock = clock
        return namespace

    @staticmethod
    def _payload(returned: Any) -> Any:
        if isinstance(returned, bytes | bytearray | memoryview):
            text = bytes(returned).decode("utf-8")
            try:
                return json.loads(text)
            except ValueError:
                return text
        return json.loads(json.dumps(returned))

    def _error_payload(self, name: str, exc: BaseException, request_id: str) -> str:
        """The Lambda Python runtime's error payload (the stack trace of the handler file)."""
        source = self.sources[name].splitlines()
        trace = []
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename != self.HANDLER_FILE:
                continue
            entry = f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
            if frame.lineno and 0 < frame.lineno <= len(source):
                entry += f"    {source[frame.lineno - 1].strip()}\n"
            trace.append(entry)
        return json.dumps({
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": trace,
        })


# =============================================================================================
#  Running a case on the engine, with a virtual clock
# =============================================================================================


@dataclass(slots=True)
class Outcome:
    status: str
    output: Any
    error: str | None
    cause: str | None
    states_entered: list[str]
    duration: float  # virtual seconds from start to end
    execution: Execution
    commands: list[Command] = field(default_factory=list)  # every command, in order


class _Stalled(RuntimeError):
    pass


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
            raise _Stalled(f"{case.key}: the execution is RUNNING but nothing is pending")
        events += 1
        if events > max_events:
            raise _Stalled(f"{case.key}: more than {max_events} events")
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


# =============================================================================================
#  Comparison (README: "Case schema")
# =============================================================================================

_MASK = re.compile(r"<json-input:\d+>")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def compare(case: Case, outcome: Outcome) -> list[str]:
    """Every way `outcome` differs from the recorded execution (empty: conformant)."""
    expected = case.expected
    problems: list[str] = []
    if outcome.status != expected["status"]:
        problems.append(f"status {outcome.status}, expected {expected['status']}")
    if case.output_check:
        loose = dict(case.output_loose)
        differences = _diff(outcome.output, expected.get("output"), (), loose)
        problems += [f"output: {difference}" for difference in differences]
    if outcome.error != expected.get("error"):
        problems.append(f"error {outcome.error!r}, expected {expected.get('error')!r}")
    problem = _cause_problem(case.cause_match, outcome.cause, expected.get("cause"))
    if problem:
        problems.append(problem)
    if case.states_entered is not None:
        wanted = list(case.states_entered)
        if case.states_entered_order == "multiset":
            if Counter(outcome.states_entered) != Counter(wanted):
                problems.append(f"states entered {outcome.states_entered}, expected (any "
                                f"order) {wanted}")
        elif outcome.states_entered != wanted:
            problems.append(f"states entered {outcome.states_entered}, expected {wanted}")
    if case.min_duration_s is not None and outcome.duration < case.min_duration_s:
        problems.append(f"took {outcome.duration:.3f} virtual seconds, expected at least "
                        f"{case.min_duration_s}")
    return problems


def _cause_problem(rule: str | None, actual: str | None, expected: str | None) -> str | None:
    if rule == "masked":
        return None
    if rule == "lambda_error":
        if _lambda_error_same(actual, expected):
            return None
        return f"cause {actual!r}, expected a Lambda error like {expected!r}"
    if rule == "aws_text" and isinstance(expected, str) and isinstance(actual, str):
        pattern = ".*".join(re.escape(part) for part in _MASK.split(expected))
        if re.fullmatch(pattern, actual, re.DOTALL):
            return None
        return f"cause {actual!r}, expected {expected!r}"
    if actual != expected:
        return f"cause {actual!r}, expected {expected!r}"
    return None


def _lambda_error_same(actual: Any, expected: Any) -> bool:
    try:
        mine, theirs = json.loads(actual), json.loads(expected)
    except (TypeError, ValueError):
        return False
    return all(
        isinstance(mine, dict) and isinstance(theirs, dict) and key in mine
        and mine[key] == theirs.get(key)
        for key in ("errorType", "errorMessage")
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _diff(actual: Any, expected: Any, path: tuple[str | int, ...],
          loose: dict[tuple[str | int, ...], str]) -> list[str]:
    """Strict JSON comparison (true is not 1, 1 is not 1.0), except at the loose paths."""
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    rule = loose.get(path)
    if rule == "masked":
        if expected == "RandomNumberGenerated" and _kind(actual) not in ("integer", "float"):
            return [f"{where}: {actual!r} is not a number"]
        is_uuid = isinstance(actual, str) and _UUID.fullmatch(actual) is not None
        if expected == "generated-uuid" and not is_uuid:
            return [f"{where}: {actual!r} is not a UUID v4"]
        return []
    if rule == "lambda_error":
        return [] if _lambda_error_same(actual, expected) else [
            f"{where}: {actual!r} is not the Lambda error {expected!r}"]
    if _kind(actual) != _kind(expected):
        return [f"{where}: {_kind(actual)} {actual!r}, expected {_kind(expected)} {expected!r}"]
    if isinstance(expected, dict):
        problems = []
        for key in expected:
            if key not in actual:
                problems.append(f"{where}: missing key {key!r}")
            else:
                problems += _diff(actual[key], expected[key], (*path, key), loose)
        problems += [f"{where}: unexpected key {key!r}" for key in actual if key not in expected]
        return problems
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{where}: {len(actual)} items {actual!r}, expected {len(expected)} "
                    f"{expected!r}"]
        problems = []
        for index, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            problems += _diff(mine, theirs, (*path, index), loose)
        return problems
    if actual != expected:
        return [f"{where}: {actual!r}, expected {expected!r}"]
    return []
