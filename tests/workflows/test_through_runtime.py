"""Every recorded AWS Step Functions execution, run through baton itself.

Each case becomes a `baton.workflows.v1/workflow` document; executions run on the embedded
runtime (interpreter = an SDK function over HTTP, waits and retries = delayed messages), and Lambda
tasks go through the Lambda bridge to `baton lambda local` (AWS's runtime interface client).
Results are compared with the recordings by the rules of conformance/asl/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baton.module.specs import ExtensionDocument, ModuleSpec, SourceLocation, TypeName
from baton.runtime import Address, Message, Runtime
from baton.serve.lambda_local import LambdaLocal
from baton.workflows.conformance import Case, Outcome, compare
from baton.workflows.execution import read_execution
from baton.workflows.host import workflow_host
from tests.workflows.test_conformance import MATRIX, NUMBERED

WORKFLOW_KIND = TypeName("baton.workflows.v1", "workflow")


def _module(cases: list[Case]) -> ModuleSpec:
    docs = tuple(
        ExtensionDocument(
            WORKFLOW_KIND,
            {"id": f"conformance/c{index}", "definition": case.definition},
            SourceLocation(case.key, 1),
        )
        for index, case in enumerate(cases)
    )
    return ModuleSpec(extensions=docs)


def _lambda_sources(cases: list[Case], root: Path) -> dict[str, str]:
    """Write each Lambda's handler source as a module; {name: "module:handler"}."""
    sources: dict[str, str] = {}
    for case in cases:
        for name, source in case.lambdas.items():
            assert sources.setdefault(name, source) == source, f"two sources for Lambda {name}"
    for name, source in sources.items():
        (root / f"{name}.py").write_text(source)
    return {name: f"{name}:handler" for name in sources}


@pytest.mark.timeout(600)
async def test_every_recorded_execution_through_the_runtime(tmp_path):
    cases = NUMBERED + MATRIX
    assert len(cases) == 147 + 626, "the conformance cases (shared/conformance/asl) are missing"
    handlers = _lambda_sources(cases, tmp_path)
    async with LambdaLocal(
        handlers, port=0, task_root=tmp_path, concurrency=4, timeout=10, output=lambda *_: None
    ) as local:
        module = _module(cases)
        host = workflow_host(module, lambda_endpoint_url=local.url)
        async with Runtime(module, admin_port=None, extensions=[host]) as runtime:
            for index, case in enumerate(cases):
                await runtime.ingest(
                    Message(Address("conformance", f"c{index}", "run"), None,
                            "baton.workflows/Start", json.dumps(case.input).encode())
                )
            try:  # until every execution ended, its waits and retries included
                await runtime.until_idle(300, timers=True)
            except TimeoutError:
                pass  # the executions still running are named below
            assert not runtime.parked(), runtime.parked()
            executions = [
                read_execution(runtime, Address("conformance", f"c{index}", "run"))
                for index in range(len(cases))
            ]
    pending = [case.key for case, s in zip(cases, executions) if s is None or not s.execution.finished]
    assert not pending, f"{len(pending)} executions still running: {pending[:10]}"

    failures = {}
    for case, stored in zip(cases, executions):
        assert stored is not None
        execution = stored.execution
        assert execution.end_time is not None
        outcome = Outcome(
            status=execution.status, output=execution.output, error=execution.error,
            cause=execution.cause, states_entered=execution.states_entered(),
            duration=execution.end_time - execution.start_time, execution=execution,
        )
        problems = compare(case, outcome)
        if problems:
            failures[case.key] = problems
    assert not failures, json.dumps(failures, indent=2)[:5000]
