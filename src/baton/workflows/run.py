"""One workflow execution on an embedded, in-memory runtime (`baton workflows run`)."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

from baton.module.kinds import WORKFLOW_START_TYPENAME
from baton.module.playground import on_free_ports
from baton.module.specs import ModuleSpec, TypeName
from baton.runtime import Address, Message, Runtime
from baton.workflows.host import workflow_host
from baton.workflows.stored_execution import read_execution

# One run has nobody to fix and resume a failing interpreter: give up on it soon, not after
# the two minutes `baton run` allows.
_ONE_OFF_INTERPRETER_CALL = timedelta(seconds=5)


async def run_execution(
    module: ModuleSpec, workflow: TypeName, execution_input: Any, name: str,
    lambdas: dict[str, str], timeout: float,  # noqa: ASYNC109 (the CLI's --timeout)
) -> dict[str, Any]:
    """Start one execution and wait for its end; its status, output, error and cause.

    The module's playground ports are not bound (free ports instead) and there is no admin API,
    so a run works beside a `baton run` of the same module. A parked address (e.g. the
    interpreter failing) ends it at once as FAILED (`baton.Parked`): nothing would resume it.
    Lambda tasks run the local `lambdas` ({name: "path.py:handler"}) when given.
    Raises ModuleError or DefinitionError for a bad definition, OSError when it cannot listen.
    """
    async with AsyncExitStack() as stack:
        endpoint_url = None
        if lambdas:
            from baton.serve.lambda_local import LambdaLocal

            local = await stack.enter_async_context(LambdaLocal(lambdas, port=0))
            endpoint_url = local.url
        host = workflow_host(module, lambda_endpoint_url=endpoint_url,
                             interpreter_call=_ONE_OFF_INTERPRETER_CALL)
        runtime = await stack.enter_async_context(
            Runtime(on_free_ports(module), admin_port=None, extensions=[host])
        )
        address = Address(workflow.namespace, workflow.name, name)
        start = json.dumps(execution_input).encode()
        await runtime.ingest(Message(address, None, WORKFLOW_START_TYPENAME, start))

        def finished() -> dict[str, Any] | None:
            stored = read_execution(runtime, address)
            if stored is None or not stored.execution.finished:
                return None
            execution = stored.execution
            return {"status": execution.status, "output": execution.output,
                    "error": execution.error, "cause": execution.cause}

        try:
            await runtime.until(lambda: finished() is not None or bool(runtime.parked()), timeout)
        except TimeoutError:
            return {"status": "RUNNING", "output": None, "error": "baton.Timeout",
                    "cause": f"still running after {timeout}s"}
        result = finished()
        if result is not None:
            return result
        reasons = "; ".join(f"{a}: {p.reason}" for a, p in runtime.parked().items())
        return {"status": "FAILED", "output": None, "error": "baton.Parked", "cause": reasons}
