"""The messages between workflow executions, task functions and timers (JSON typed values).

A task function receives a `TaskRequest` and replies to its caller with a `TaskResult`; any
StateFun function in any SDK can play that role. A task that takes long (it may reply from a
later invocation, e.g. after a delayed message) keeps `HeartbeatSeconds` satisfied by sending
`TaskHeartbeat` messages to the execution. Timers are delayed messages an execution sends
to itself; an execution started by another function replies with an `ExecutionResult`.
"""

from __future__ import annotations

from typing import Any

from statefun import make_json_type, message_builder

from baton.module.kinds import LAMBDA_BRIDGE_TYPE

TASK_REQUEST = make_json_type("baton.workflows/TaskRequest")  # {"task_id", "input"}
# {"task_id", "output"} | {"task_id", "error", "cause"}
TASK_RESULT = make_json_type("baton.workflows/TaskResult")
TASK_HEARTBEAT = make_json_type("baton.workflows/TaskHeartbeat")  # {"task_id"}: still working
TIMER = make_json_type("baton.workflows/Timer")  # {"timer_id"}
EXECUTION_RESULT = make_json_type("baton.workflows/ExecutionResult")  # {"execution", "status", ...}
# An execution's stored progress is not a message: see baton.workflows.execution.

# The function type of the bridge that runs Lambda-ARN tasks (it invokes Lambda with boto3).
LAMBDA_BRIDGE = str(LAMBDA_BRIDGE_TYPE)


def task_result(task_id: str, output: Any = None, *, error: str | None = None,
                cause: str | None = None) -> dict[str, Any]:
    """A TaskResult body: the output, or an error name and cause."""
    if error is not None:
        return {"task_id": task_id, "error": error, "cause": cause}
    return {"task_id": task_id, "output": output}


def reply_task_result(context, body: dict[str, Any]) -> None:
    """Send a TaskResult back to the execution that asked (no caller: nobody to tell)."""
    caller = context.caller
    if caller is not None:
        context.send(
            message_builder(
                target_typename=caller.typename, target_id=caller.id,
                value=body, value_type=TASK_RESULT,
            )
        )
