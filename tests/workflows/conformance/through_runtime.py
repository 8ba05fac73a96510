"""Run cases through baton itself: the embedded runtime, the workflow function, real Lambdas.

Each case becomes a `baton.workflows.v1/workflow` document; executions run on the embedded
runtime (interpreter = an SDK function over HTTP, waits and retries = delayed messages), and
Lambda tasks go through the Lambda bridge to `baton lambda local` (AWS's runtime interface
client). Time is real here, so durations are wall-clock seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from baton.module.kinds import WORKFLOW_KIND
from baton.module.specs import ExtensionDocument, ModuleSpec, SourceLocation
from baton.runtime import Address, Message, Runtime
from baton.serve.lambda_local import LambdaLocal
from baton.workflows.host import workflow_host
from baton.workflows.stored_execution import read_execution
from tests.workflows.conformance.cases import Case, Outcome


def _address(index: int) -> Address:
    return Address("conformance", f"c{index}", "run")


def _module(cases: Sequence[Case]) -> ModuleSpec:
    docs = tuple(
        ExtensionDocument(
            WORKFLOW_KIND,
            {"id": f"conformance/c{index}", "definition": case.definition},
            SourceLocation(case.key, 1),
        )
        for index, case in enumerate(cases)
    )
    return ModuleSpec(extensions=docs)


def _lambda_sources(cases: Sequence[Case], root: Path) -> dict[str, str]:
    """Write each Lambda's handler source as a module; {name: "module:handler"}."""
    sources: dict[str, str] = {}
    for case in cases:
        for name, source in case.lambdas.items():
            assert sources.setdefault(name, source) == source, f"two sources for Lambda {name}"
    for name, source in sources.items():
        (root / f"{name}.py").write_text(source)
    return {name: f"{name}:handler" for name in sources}


async def run_through_runtime(
    cases: Sequence[Case], task_root: Path, *, deadline_seconds: float = 300
) -> list[Outcome]:
    """Start every case at once and wait for all to end; the outcomes, in the cases' order.

    Waits until the runtime is idle, timers included (every execution ended, its waits and
    retries too). It fails if a message is parked (a function failed to handle it) or if
    executions are still running at the deadline.
    """
    handlers = _lambda_sources(cases, task_root)
    async with LambdaLocal(
        handlers, port=0, task_root=task_root, concurrency=4, timeout=10, output=lambda *_: None
    ) as local:
        module = _module(cases)
        host = workflow_host(module, lambda_endpoint_url=local.url)
        async with Runtime(module, admin_port=None, extensions=[host]) as runtime:
            for index, case in enumerate(cases):
                await runtime.ingest(
                    Message(_address(index), None, "baton.workflows/Start",
                            json.dumps(case.input).encode())
                )
            try:
                await runtime.until_idle(deadline_seconds, timers=True)
            except TimeoutError:
                pass  # the executions still running are named below
            assert not runtime.parked(), runtime.parked()
            executions = [read_execution(runtime, _address(index)) for index in range(len(cases))]
    pending = [
        case.key for case, s in zip(cases, executions) if s is None or not s.execution.finished
    ]
    if pending:
        raise AssertionError(f"{len(pending)} executions still running: {pending[:10]}")

    outcomes = []
    for stored in executions:
        assert stored is not None
        execution = stored.execution
        assert execution.end_time is not None
        outcomes.append(Outcome(
            status=execution.status, output=execution.output, error=execution.error,
            cause=execution.cause, states_entered=execution.states_entered(),
            duration=execution.end_time - execution.start_time, execution=execution,
        ))
    return outcomes
