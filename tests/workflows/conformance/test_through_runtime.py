"""Every recorded AWS Step Functions execution, run through baton itself.

The runner (`through_runtime`) runs all cases at once on the embedded runtime, with the Lambda
tasks served by `baton lambda local`; results are compared with the recordings by the rules of
the cases' README.
"""

from __future__ import annotations

import json

import pytest

from tests.workflows.conformance.cases import matrix, numbered, requires_cases
from tests.workflows.conformance.compare import compare
from tests.workflows.conformance.through_runtime import run_through_runtime

pytestmark = requires_cases


@pytest.mark.timeout(600)
async def test_every_recorded_execution_through_the_runtime(tmp_path):
    cases = numbered() + matrix()
    assert len(cases) == 147 + 626, "the conformance cases (shared/conformance/asl) are incomplete"
    outcomes = await run_through_runtime(cases, tmp_path)

    failures = {}
    for case, outcome in zip(cases, outcomes, strict=True):
        problems = compare(case, outcome)
        if problems:
            failures[case.key] = problems
    assert not failures, json.dumps(failures, indent=2)[:5000]
