"""The workflow interpreter as a StateFun function (official Python SDK).

One execution per address (`<workflow type>/<execution id>`); its progress is that address's
state. The engine is pure: this function feeds it the message (a start, a task's result, a
timer) and turns the commands it returns into StateFun effects: task requests are messages to
functions (Lambda ARNs go to the Lambda bridge), waits/retries/timeouts are delayed messages
with cancellation tokens, and a finished execution replies to whoever started it and may publish
its result to an egress. Because it is an ordinary SDK function, a workflow runs the same on
baton and on a real StateFun cluster.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from statefun import (
    StatefulFunctions,
    egress_message_builder,
    kafka_egress_message,
    make_json_type,
    message_builder,
)

from baton.module.kinds import PLAYGROUND_EGRESS_ID, PLAYGROUND_EGRESS_RECORD_TYPE
from baton.workflows import resources
from baton.workflows.engine import (
    CancelTimer,
    Engine,
    ExecutionFinished,
    InvokeTask,
    StartTimer,
)
from baton.workflows.messages import (
    EXECUTION_RESULT,
    LAMBDA_BRIDGE,
    TASK_HEARTBEAT,
    TASK_REQUEST,
    TASK_RESULT,
    TIMER,
)
from baton.workflows.module_kind import WorkflowSpec
from baton.workflows.stored_execution import StoredExecution, execution_spec

log = logging.getLogger(__name__)

_EGRESS_RECORD = make_json_type(PLAYGROUND_EGRESS_RECORD_TYPE)


def task_target(resource: str) -> str:
    """The function type a Task's Resource is sent to: itself, or the Lambda bridge."""
    return LAMBDA_BRIDGE if resources.is_lambda(resource) else resource


def start_input(message) -> Any:
    """The execution input carried by a start message (JSON, or a built-in type's value)."""
    for check, read in (
        (message.is_string, message.as_string), (message.is_int, message.as_int),
        (message.is_long, message.as_long), (message.is_bool, message.as_bool),
        (message.is_double, message.as_double), (message.is_float, message.as_float),
    ):
        if check():
            return read()
    raw = message.raw_value()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class WorkflowFunction:
    """The interpreter for one workflow type.

    `now` is where history timestamps and timer due times come from (wall time; a test harness
    passes its virtual clock's). `seed`, when given, makes each execution's random jitter depend
    on the seed and the execution id only (by default the start time is mixed in too).
    """

    def __init__(
        self, spec: WorkflowSpec, *, now: Callable[[], float] = time.time, seed: str | None = None
    ) -> None:
        self.spec = spec
        self.engine = Engine(spec.machine, name=str(spec.id))
        self._now = now
        self._seed = seed

    def __call__(self, context, message) -> None:
        stored: StoredExecution | None = context.storage.execution
        now = self._now()
        if message.is_type(TASK_RESULT) or message.is_type(TIMER) or message.is_type(TASK_HEARTBEAT):
            if stored is None:
                return  # a late event for an execution that never started here
            execution = stored.execution
            if message.is_type(TIMER):
                commands = self.engine.timer_fired(execution, message.as_type(TIMER)["timer_id"], now)
            elif message.is_type(TASK_HEARTBEAT):
                task_id = message.as_type(TASK_HEARTBEAT)["task_id"]
                commands = self.engine.task_heartbeat(execution, task_id, now)
            else:
                result = message.as_type(TASK_RESULT)
                if "error" in result:
                    commands = self.engine.task_failed(
                        execution, result["task_id"], result["error"], result.get("cause"), now
                    )
                else:
                    commands = self.engine.task_succeeded(
                        execution, result["task_id"], result.get("output"), now
                    )
        else:
            caller = _address(context.caller)
            if stored is not None:  # the same execution id again: never run twice
                self._join(context, stored, caller)
                return
            name = context.address.id
            execution, commands = self.engine.start(
                start_input(message), name=name, now=now,
                seed=None if self._seed is None else f"{self._seed}:{name}",
            )
            stored = StoredExecution(execution, [caller] if caller else [])
        self._apply(context, stored, commands, now)
        context.storage.execution = stored

    def _join(self, context, stored: StoredExecution, caller: str | None) -> None:
        """A duplicate start: reply at once if finished, else wait for the result too."""
        if caller is None:
            return
        execution = stored.execution
        if execution.finished:
            self._reply(context, caller, self._result(context.address.id, execution.to_json()))
        elif caller not in stored.callers:
            stored.callers.append(caller)
            context.storage.execution = stored

    def _apply(self, context, stored: StoredExecution, commands: list, now: float) -> None:
        me = context.address
        for command in commands:
            if isinstance(command, InvokeTask):
                body = {"task_id": command.task_id, "input": command.input}
                target = task_target(command.resource)
                if target == LAMBDA_BRIDGE:
                    body["resource"] = command.resource
                context.send(
                    message_builder(
                        target_typename=target, target_id=f"{me.id}:{command.task_id}",
                        value=body, value_type=TASK_REQUEST,
                    )
                )
            elif isinstance(command, StartTimer):
                context.send_after(
                    timedelta(seconds=max(0.0, command.fire_at - now)),
                    message_builder(
                        target_typename=me.typename, target_id=me.id,
                        value={"timer_id": command.timer_id}, value_type=TIMER,
                    ),
                    cancellation_token=self._token(command.timer_id),
                )
            elif isinstance(command, CancelTimer):
                context.cancel_delayed_message(self._token(command.timer_id))
            elif isinstance(command, ExecutionFinished):
                result = self._result(me.id, dataclasses.asdict(command))
                for caller in stored.callers:
                    self._reply(context, caller, result)
                self._publish(context, result)

    def _result(self, execution_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        """An ExecutionResult body from a finished execution (or its stored JSON)."""
        return {
            "execution": execution_id, "workflow": str(self.spec.id),
            **{key: outcome.get(key) for key in ("status", "output", "error", "cause")},
        }

    def _token(self, timer_id: str) -> str:
        # Tokens are scoped by the sender's id only; the workflow type keeps types apart.
        return f"{self.spec.id}:{timer_id}"

    @staticmethod
    def _reply(context, caller: str, result: dict[str, Any]) -> None:
        typename, _, target_id = caller.rpartition("/")
        context.send(
            message_builder(
                target_typename=typename, target_id=target_id,
                value=result, value_type=EXECUTION_RESULT,
            )
        )

    def _publish(self, context, result: dict[str, Any]) -> None:
        target = self.spec.result_egress
        if target is None:
            return
        payload = json.dumps(result)
        if target.egress == PLAYGROUND_EGRESS_ID:
            context.send_egress(
                egress_message_builder(
                    target_typename=str(target.egress),
                    value={"topic": target.topic, "payload": payload},
                    value_type=_EGRESS_RECORD,
                )
            )
        else:
            context.send_egress(
                kafka_egress_message(
                    typename=str(target.egress), topic=target.topic,
                    key=result["execution"], value=payload,
                )
            )


def _address(address) -> str | None:
    return f"{address.namespace}/{address.name}/{address.id}" if address else None


def workflow_functions(
    specs: list[WorkflowSpec], functions: StatefulFunctions | None = None, *,
    now: Callable[[], float] = time.time, seed: str | None = None,
) -> StatefulFunctions:
    """Bind an interpreter function for every workflow (and nothing else); see WorkflowFunction."""
    functions = functions if functions is not None else StatefulFunctions()
    for spec in specs:
        functions.register(
            str(spec.id), _as_function(WorkflowFunction(spec, now=now, seed=seed)),
            specs=[execution_spec()],
        )
    return functions


def _as_function(interpreter: WorkflowFunction):
    def workflow(context, message):  # the SDK wants a plain function of exactly 2 arguments
        interpreter(context, message)

    return workflow
