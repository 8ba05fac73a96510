"""A test-only interpreter for Pass / Choice / Succeed / Fail state machines.

It exists to run the recorded AWS executions in /work/shared/conformance/asl through the
language layer (paths, templates, intrinsics, choice rules) without the real engine. It walks
states the way Step Functions does and numbers history events the same way, so States.Runtime
causes carry AWS's "(entered at the event id #N)" prefix:

    1 ExecutionStarted, then per state: <Type>StateEntered, <Type>StateExited.

Also: `case_matches(case, result)`, the README's comparison rules (cause_match, output_loose).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baton.workflows.asl import choice, paths, templates
from baton.workflows.asl.errors import STATES_NO_CHOICE_MATCHED, StatesError, state_failure_cause

CONFORMANCE = Path("/work/shared/conformance/asl")
SUPPORTED_TYPES = frozenset({"Pass", "Choice", "Succeed", "Fail"})
MAX_TRANSITIONS = 1000


@dataclass
class Outcome:
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    states_entered: list[str] = field(default_factory=list)


def state_types(definition: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            found.add(state.get("Type"))
            for branch in state.get("Branches", []):
                walk(branch["States"])
            for key in ("Iterator", "ItemProcessor"):
                if key in state:
                    walk(state[key]["States"])

    walk(definition["States"])
    return found


def runnable(case: dict[str, Any]) -> bool:
    return state_types(case["definition"]) <= SUPPORTED_TYPES


def _context(execution_input: Any) -> dict[str, Any]:
    name = "conformance-" + uuid.uuid4().hex[:8]
    machine = "arn:aws:states:us-east-1:111111111111:stateMachine:conformance"
    return {
        "Execution": {
            "Id": f"arn:aws:states:us-east-1:111111111111:execution:conformance:{name}",
            "Input": execution_input,
            "Name": name,
            "RoleArn": "arn:aws:iam::111111111111:role/conformance",
            "StartTime": "2024-01-01T00:00:00.000Z",
            "RedriveCount": 0,
        },
        "StateMachine": {"Id": machine, "Name": "conformance"},
        "State": {},
    }


def run(definition: dict[str, Any], execution_input: Any) -> Outcome:
    """Run a Pass/Choice/Succeed/Fail state machine to its end."""
    states = definition["States"]
    context = _context(execution_input)
    current = definition["StartAt"]
    data = execution_input
    event_id = 1  # ExecutionStarted
    entered: list[str] = []
    for _ in range(MAX_TRANSITIONS):
        state = states[current]
        kind = state["Type"]
        if kind not in SUPPORTED_TYPES:
            raise NotImplementedError(f"state type {kind} is not supported by the mini runner")
        event_id += 1
        entered_at = event_id
        entered.append(current)
        context["State"] = {"Name": current, "EnteredTime": "2024-01-01T00:00:00.000Z",
                            "RetryCount": 0}
        try:
            if kind == "Fail":
                error = _fail_field(state, "Error", data, context)
                cause = _fail_field(state, "Cause", data, context)
                return Outcome("FAILED", None, error, cause, entered)
            effective = paths.apply_input_path(state.get("InputPath", "$"), data, context)
            next_state: str | None
            if kind == "Pass":
                if "Parameters" in state:
                    effective = templates.render(state["Parameters"], effective, context,
                                                 field="Parameters")
                result = state.get("Result", effective)
                combined = paths.apply_result_path(state.get("ResultPath", "$"), data, result)
                data = paths.apply_output_path(state.get("OutputPath", "$"), combined, context)
                next_state = state.get("Next")
            elif kind == "Choice":
                next_state = choice.choose(state["Choices"], effective, context)
                if next_state is None:
                    next_state = state.get("Default")
                if next_state is None:
                    raise StatesError(STATES_NO_CHOICE_MATCHED, "No Matches!")
                data = paths.apply_output_path(state.get("OutputPath", "$"), effective, context)
            else:  # Succeed
                data = paths.apply_output_path(state.get("OutputPath", "$"), effective, context)
                next_state = None
        except StatesError as failure:
            return Outcome("FAILED", None, failure.error,
                           state_failure_cause(current, entered_at, failure.cause), entered)
        event_id += 1  # <Type>StateExited
        if kind == "Succeed" or state.get("End") or next_state is None:
            return Outcome("SUCCEEDED", data, None, None, entered)
        current = next_state
    raise RuntimeError("too many transitions")


def _fail_field(state: dict[str, Any], name: str, data: Any, context: Any) -> str | None:
    if name in state:
        return state[name]
    path_key = f"{name}Path"
    if path_key in state:
        value = templates.evaluate_expression(state[path_key], data, context, field=path_key)
        return value if isinstance(value, str) else json.dumps(value)
    return None


# --- comparison -----------------------------------------------------------------------------

_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _masked_ok(expected: Any, actual: Any) -> bool:
    if expected == "RandomNumberGenerated":
        return isinstance(actual, int) and not isinstance(actual, bool)
    if expected == "generated-uuid":
        return isinstance(actual, str) and _UUID4.fullmatch(actual) is not None
    return True


def _get(value: Any, where: list[Any]) -> tuple[bool, Any]:
    for step in where:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return False, None
    return True, value


def _set(value: Any, where: list[Any], replacement: Any) -> Any:
    if not where:
        return replacement
    copy = json.loads(json.dumps(value))
    node = copy
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = replacement
    return copy


def _lambda_error_ok(expected: str, actual: str | None) -> bool:
    try:
        want, got = json.loads(expected), json.loads(actual or "")
    except ValueError:
        return False
    return all(want.get(k) == got.get(k) for k in ("errorType", "errorMessage"))


def _aws_text_ok(expected: str, actual: str | None) -> bool:
    """AWS's text, where `<json-input:N>` (the recorder's mask) must be some JSON text."""
    if actual is None:
        return False
    parts = re.split(r"<json-input:\d+>", expected)
    m = re.fullmatch("(.+)".join(re.escape(part) for part in parts), actual, re.DOTALL)
    if m is None:
        return False
    for masked in m.groups():
        try:
            json.loads(masked)
        except ValueError:
            return False
    return True


def same_json(a: Any, b: Any) -> bool:
    """JSON equality that keeps booleans apart from numbers (True != 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def case_problems(case: dict[str, Any], outcome: Outcome) -> list[str]:
    """What differs between a recorded case and an outcome, per the README's rules."""
    problems: list[str] = []
    expected = case["expected"]
    if outcome.status != expected["status"]:
        problems.append(f"status {outcome.status} != {expected['status']} "
                        f"(error={outcome.error!r}, cause={outcome.cause!r})")
        return problems
    if case.get("output_check", True):
        want, got = expected["output"], outcome.output
        for loose in case.get("output_loose", []):
            present, value = _get(got, loose["path"])
            _, masked = _get(want, loose["path"])
            if not present:
                problems.append(f"output lacks {loose['path']}")
                continue
            if loose["match"] == "masked" and not _masked_ok(masked, value):
                problems.append(f"output {loose['path']} = {value!r} has not the shape of {masked!r}")
            if loose["match"] == "lambda_error" and not _lambda_error_ok(masked, value):
                problems.append(f"output {loose['path']} = {value!r} != {masked!r}")
            want, got = _set(want, loose["path"], None), _set(got, loose["path"], None)
        if not same_json(want, got):
            problems.append(f"output {json.dumps(got)} != {json.dumps(want)}")
    if outcome.error != expected["error"]:
        problems.append(f"error {outcome.error!r} != {expected['error']!r}")
    how = case.get("cause_match")
    want_cause = expected["cause"]
    if how == "masked":
        pass
    elif how == "lambda_error":
        if not _lambda_error_ok(want_cause, outcome.cause):
            problems.append(f"cause {outcome.cause!r} != {want_cause!r}")
    elif how == "aws_text":
        if not _aws_text_ok(want_cause, outcome.cause):
            problems.append(f"cause {outcome.cause!r} does not match AWS text {want_cause!r}")
    elif outcome.cause != want_cause:
        problems.append(f"cause {outcome.cause!r} != {want_cause!r}")
    if "states_entered" in case:
        if case.get("states_entered_order") == "multiset":
            if sorted(outcome.states_entered) != sorted(case["states_entered"]):
                problems.append(f"states entered {outcome.states_entered} != {case['states_entered']}")
        elif outcome.states_entered != case["states_entered"]:
            problems.append(f"states entered {outcome.states_entered} != {case['states_entered']}")
    return problems


def load_cases() -> dict[str, list[dict[str, Any]]]:
    """All recorded cases by source: numbered, choice matrix, intrinsic matrix, variants."""
    numbered = [json.loads(p.read_text()) for p in sorted(CONFORMANCE.glob("[0-9][0-9][0-9]-*.json"))]
    out = {"numbered": numbered}
    for name in ("choice-operators", "intrinsic-functions", "variants"):
        path = CONFORMANCE / "matrix" / f"{name}.json"
        out[name] = json.loads(path.read_text())["cases"]
    return out
