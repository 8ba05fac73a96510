"""Every recorded AWS Step Functions execution, run through baton itself.

Each case becomes a `baton.workflows.v1/workflow` document; executions run on the embedded
runtime (interpreter = an SDK function over HTTP, waits and retries = delayed messages), and Lambda
tasks go through the Lambda bridge to `baton lambda local` (AWS's runtime interface client).
Results are compared with the recordings by the rules of conformance/asl/README.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from baton.module.specs import ExtensionDocument, ModuleSpec, SourceLocation, TypeName
from baton.runtime import Address, Message, Runtime
from baton.serve.lambda_local import LambdaLocal
from baton.workflows.conformance import Case, Outcome, compare
from baton.workflows.engine import Execution
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
        runtime = Runtime(_module(cases), admin_port=None, lambda_endpoint_url=local.url)
        async with runtime:
            started: dict[int, float] = {}
            finished: dict[int, tuple[float, dict]] = {}
            for index, case in enumerate(cases):
                started[index] = time.monotonic()
                await runtime.ingest(
                    Message(Address("conformance", f"c{index}", "run"), None,
                            "baton.workflows/Start", json.dumps(case.input).encode())
                )
            deadline = time.monotonic() + 300
            while len(finished) < len(cases):
                for index in range(len(cases)):
                    if index in finished:
                        continue
                    stored = runtime.store.states(Address("conformance", f"c{index}", "run")).get("execution")
                    progress = json.loads(stored.value)["execution"] if stored else {}
                    if progress.get("status", "RUNNING") != "RUNNING":
                        finished[index] = (time.monotonic(), progress)
                assert not runtime.store.parked(), runtime.store.parked()
                if time.monotonic() > deadline:
                    pending = [cases[i].key for i in range(len(cases)) if i not in finished]
                    raise AssertionError(f"{len(pending)} executions still running: {pending[:10]}")
                await asyncio.sleep(0.05)

    failures = {}
    for index, case in enumerate(cases):
        at, progress = finished[index]
        execution = Execution.from_json(progress)
        outcome = Outcome(
            status=progress["status"], output=progress.get("output"), error=progress.get("error"),
            cause=progress.get("cause"), states_entered=execution.states_entered(),
            duration=at - started[index], execution=execution,
        )
        problems = compare(case, outcome)
        if problems:
            failures[case.key] = problems
    assert not failures, json.dumps(failures, indent=2)[:5000]
