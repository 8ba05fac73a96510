"""The engine against every execution recorded on AWS Step Functions.

Each numbered case and each matrix run is executed on the engine with a virtual clock and
in-process Lambda handlers, then compared with the recording by the README's rules. Every case
runs twice: as is, and with the execution replaced by `Execution.from_json(to_json())` (through
JSON text) after every event, which proves all progress is JSON-serialisable and lossless.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests.workflows.conformance.cases import Case, matrix, numbered, requires_cases
from tests.workflows.conformance.compare import compare
from tests.workflows.conformance.on_engine import run_case

pytestmark = requires_cases

# Cases the engine does not reproduce, with the reason. Empty: every recording passes.
XFAIL: dict[str, str] = {}


def _params(cases: Iterable[Case]) -> list[Any]:
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


def test_case_counts() -> None:
    assert len(numbered()) == 147
    assert len(matrix()) == 626


@pytest.mark.parametrize("case", _params(numbered()))
def test_recorded_case(case: Case) -> None:
    _check(case, roundtrip=False)


@pytest.mark.parametrize("case", _params(matrix()))
def test_recorded_matrix_run(case: Case) -> None:
    _check(case, roundtrip=False)


@pytest.mark.parametrize("case", _params(numbered() + matrix()))
def test_recorded_case_with_json_round_trip_after_every_event(case: Case) -> None:
    _check(case, roundtrip=True)
