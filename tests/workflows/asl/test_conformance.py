"""Every recorded AWS execution whose states are only Pass/Choice/Succeed/Fail, replayed.

The cases live in /work/shared/conformance/asl (see its README): the numbered set, the
choice-operator matrix (491 executions), the intrinsic-function matrix (129) and the variants.
Each one runs through `mini_runner` and must give AWS's status, output, error and cause (and
the states AWS entered, where recorded).
"""

from __future__ import annotations

import pytest

from .mini_runner import CONFORMANCE, case_problems, load_cases, run, runnable

pytestmark = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="conformance cases not present")

CASES = load_cases() if CONFORMANCE.is_dir() else {}

# Cases that cannot pass, with the reason. Empty: every runnable recorded case passes.
KNOWN_DIFFERENCES: dict[str, str] = {}


def _params(source: str) -> list:
    params = []
    for case in CASES.get(source, []):
        if not runnable(case):
            continue
        case_id = case.get("id") or case["name"]
        key = f"{source}:{case_id}"
        marks = [pytest.mark.xfail(reason=KNOWN_DIFFERENCES[key], strict=True)] \
            if key in KNOWN_DIFFERENCES else []
        params.append(pytest.param(case, id=f"{case_id}-{case['name']}" if case.get("id") else case_id,
                                   marks=marks))
    return params


@pytest.mark.parametrize("case", _params("numbered"))
def test_numbered_case(case: dict) -> None:
    outcome = run(case["definition"], case["input"])
    assert case_problems(case, outcome) == []


@pytest.mark.parametrize("case", _params("choice-operators"))
def test_choice_operator_matrix(case: dict) -> None:
    outcome = run(case["definition"], case["input"])
    assert case_problems(case, outcome) == []


@pytest.mark.parametrize("case", _params("intrinsic-functions"))
def test_intrinsic_function_matrix(case: dict) -> None:
    outcome = run(case["definition"], case["input"])
    assert case_problems(case, outcome) == []


@pytest.mark.parametrize("case", _params("variants"))
def test_variant(case: dict) -> None:
    outcome = run(case["definition"], case["input"])
    assert case_problems(case, outcome) == []


def test_case_counts() -> None:
    """The replay covers what the brief says it should: no case silently dropped."""
    counts = {source: sum(runnable(c) for c in cases) for source, cases in CASES.items()}
    assert counts == {"numbered": 87, "choice-operators": 491, "intrinsic-functions": 129,
                      "variants": 2}
    assert len(CASES["numbered"]) == 147


def test_runner_rejects_other_state_types() -> None:
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}
    with pytest.raises(NotImplementedError):
        run(machine, {})


def test_comparison_catches_a_wrong_output() -> None:
    case = next(c for c in CASES["numbered"] if c["name"] == "pass-result")
    outcome = run(case["definition"], case["input"])
    outcome.output = {"Arg1": "something else"}
    assert case_problems(case, outcome)
