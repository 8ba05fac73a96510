"""The comparison rules of the cases' README ("Case schema"): does an outcome match AWS?

`compare` lists every mismatch, so a failing case says all that is wrong at once. JSON is
compared strictly (true is not 1, 1 is not 1.0) except where a case marks a place as loose.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from tests.workflows.conformance.cases import Case, Outcome

# The recorder's mask for the state input inside an AWS error text.
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
        problems.append(f"took {outcome.duration:.3f} seconds, expected at least "
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
        if _aws_text_matches(expected, actual):
            return None
        return f"cause {actual!r}, expected {expected!r}"
    if actual != expected:
        return f"cause {actual!r}, expected {expected!r}"
    return None


def _aws_text_matches(expected: str, actual: str) -> bool:
    """AWS's text, where each `<json-input:N>` mask stands for some JSON text."""
    pattern = "(.*)".join(re.escape(part) for part in _MASK.split(expected))
    found = re.fullmatch(pattern, actual, re.DOTALL)
    if found is None:
        return False
    for masked in found.groups():
        try:
            json.loads(masked)
        except ValueError:
            return False
    return True


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
        # A masked value still has a shape: States.MathRandom gives an integer (never a float),
        # States.UUID a version 4 UUID.
        if expected == "RandomNumberGenerated" and _kind(actual) != "integer":
            return [f"{where}: {actual!r} is not an integer"]
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
