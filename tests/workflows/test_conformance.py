"""The engine against every execution recorded on AWS Step Functions (conformance/asl/).

Each numbered case and each matrix run is executed on the engine with a virtual clock and
in-process Lambda handlers, then compared with the recording by the README's rules. Every case
runs twice: as is, and with the execution replaced by `Execution.from_json(to_json())` (through
JSON text) after every event, which proves all progress is JSON-serialisable and lossless.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from baton.workflows.conformance import Case, compare, load_cases, load_matrix, run_case

_REPO = Path(__file__).resolve().parents[2]


def _cases_dir() -> Path | None:
    candidates = [os.environ.get("BATON_ASL_CONFORMANCE"), _REPO / "conformance" / "asl",
                  _REPO.parent / "shared" / "conformance" / "asl", "/work/shared/conformance/asl"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "README.md").is_file():
            return Path(candidate)
    return None


CASES_DIR = _cases_dir()
NUMBERED = load_cases(CASES_DIR) if CASES_DIR else []
MATRIX = load_matrix(CASES_DIR) if CASES_DIR else []

# Cases the engine does not reproduce, with the reason. Empty: every recording passes.
XFAIL: dict[str, str] = {}


def _params(cases: list[Case]) -> list:
    return [
        pytest.param(case, id=case.key,
                     marks=[pytest.mark.xfail(reason=XFAIL[case.key], strict=True)]
                     if case.key in XFAIL else [])
        for case in cases
    ]


def _check(case: Case, *, roundtrip: bool) -> None:
    outcome = run_case(case, roundtrip=roundtrip)
    problems = compare(case, outcome)
    assert not problems, f"{case.key}:\n  " + "\n  ".join(problems)


pytestmark = pytest.mark.skipif(CASES_DIR is None, reason="conformance/asl cases not found")


def test_case_counts() -> None:
    assert len(NUMBERED) == 147
    assert len(MATRIX) == 626


@pytest.mark.parametrize("case", _params(NUMBERED))
def test_recorded_case(case: Case) -> None:
    _check(case, roundtrip=False)


@pytest.mark.parametrize("case", _params(MATRIX))
def test_recorded_matrix_run(case: Case) -> None:
    _check(case, roundtrip=False)


@pytest.mark.parametrize("case", _params(NUMBERED + MATRIX))
def test_recorded_case_with_json_round_trip_after_every_event(case: Case) -> None:
    _check(case, roundtrip=True)
