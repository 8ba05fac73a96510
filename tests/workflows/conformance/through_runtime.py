"""Run cases through baton itself: the embedded runtime, the workflow function, real Lambdas.

Each case becomes a `baton.workflows.v1/workflow` document; executions run on the embedded
runtime (interpreter = an SDK function over HTTP, waits and retries = delayed messages), and
Lambda tasks go through the Lambda bridge to `baton lambda local` (AWS's runtime interface
client). Time is real here, so durations are wall-clock seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baton.module.specs import ExtensionDocument, ModuleSpec, SourceLocation, TypeName
from baton.runtime import Address, Message, Runtime
from baton.serve.lambda_local import LambdaLocal
from baton.workflows.engine import Execution
from tests.workflows.conformance.cases import Case, Outcome

WORKFLOW_KIND = TypeName("baton.workflows.v1", "workflow")


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
    cases: Sequence[Case], task_root: Path, *, deadline_seconds: float = 300,
    poll_seconds: float = 0.05,
) -> list[Outcome]:
    """Start every case at once and wait for all to end; the outcomes, in the cases' order.

    Progress is read from the runtime's state store (the workflow function keeps the execution
    there), so the runner needs no hook into the runtime. It fails if a message is parked (a
    function failed to handle it) or if executions are still running at the deadline.
    """
    handlers = _lambda_sources(cases, task_root)
    async with LambdaLocal(
        handlers, port=0, task_root=task_root, concurrency=4, timeout=10, output=lambda *_: None
    ) as local:
        runtime = Runtime(_module(cases), admin_port=None, lambda_endpoint_url=local.url)
        async with runtime:
            started: dict[int, float] = {}
            finished: dict[int, tuple[float, dict[str, Any]]] = {}
            for index, case in enumerate(cases):
                started[index] = time.monotonic()
                await runtime.ingest(
                    Message(_address(index), None, "baton.workflows/Start",
                            json.dumps(case.input).encode())
                )
            deadline = time.monotonic() + deadline_seconds
            while len(finished) < len(cases):
                for index in range(len(cases)):
                    if index in finished:
                        continue
                    stored = runtime.store.states(_address(index)).get("execution")
                    progress = json.loads(stored.value)["execution"] if stored else {}
                    if progress.get("status", "RUNNING") != "RUNNING":
                        finished[index] = (time.monotonic(), progress)
                assert not runtime.store.parked(), runtime.store.parked()
                if time.monotonic() > deadline:
                    pending = [cases[i].key for i in range(len(cases)) if i not in finished]
                    raise AssertionError(f"{len(pending)} executions still running: {pending[:10]}")
                await asyncio.sleep(poll_seconds)  # polling the store: there is no end event

    outcomes = []
    for index in range(len(cases)):
        at, progress = finished[index]
        execution = Execution.from_json(progress)
        outcomes.append(Outcome(
            status=progress["status"], output=progress.get("output"), error=progress.get("error"),
            cause=progress.get("cause"), states_entered=execution.states_entered(),
            duration=at - started[index], execution=execution,
        ))
    return outcomes
