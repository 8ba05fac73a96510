"""Plain Python functions as workflow tasks: `async def charge(input: dict) -> dict`.

`Tasks.task("orders/charge")` binds the function as a StateFun function (official SDK) that
answers a workflow's `TaskRequest` with a `TaskResult` to its caller: the return value, or, when
it raises, Step Functions' error convention (error = the exception's class name, cause = a JSON
`{"errorMessage", "errorType", "stackTrace"}`), so `Catch` and `Retry` match by class name.
The same function is a Lambda handler as it is (`Tasks.lambda_handler`). Like every function call
in StateFun, a task may run more than once; make its external effects idempotent.
"""

from __future__ import annotations

import inspect
import json
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from statefun import StatefulFunctions

from baton.workflows.messages import TASK_REQUEST, reply_task_result, task_result

TaskFunction = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]


def error_of(error: BaseException) -> tuple[str, str]:
    """Step Functions' (error, cause) for an exception raised by task code."""
    name = type(error).__name__
    cause = {
        "errorMessage": str(error),
        "errorType": name,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }
    return name, json.dumps(cause)


async def call_task(fn: TaskFunction, task_input: Any) -> Any:
    """Call a sync or async task function."""
    result = fn(task_input)
    if inspect.isawaitable(result):
        result = await result
    return result


class Tasks:
    """A registry of task functions served as StateFun functions."""

    def __init__(self, functions: StatefulFunctions | None = None) -> None:
        self.functions = functions if functions is not None else StatefulFunctions()
        self._tasks: dict[str, TaskFunction] = {}

    def task(self, typename: str) -> Callable[[TaskFunction], TaskFunction]:
        """Decorator: serve `fn(input) -> output` as the StateFun function `typename`."""

        def bind(fn: TaskFunction) -> TaskFunction:
            self._tasks[typename] = fn

            async def run(context, message):
                request = message.as_type(TASK_REQUEST)
                task_id = request["task_id"]
                try:
                    body = task_result(task_id, await call_task(fn, request.get("input")))
                except Exception as error:  # the workflow decides: Retry, Catch or fail
                    name, cause = error_of(error)
                    body = task_result(task_id, error=name, cause=cause)
                reply_task_result(context, body)

            self.functions.register(typename, run)
            return fn

        return bind

    def lambda_handler(self, typename: str) -> Callable[[Any, Any], Any]:
        """The task as a plain AWS Lambda handler: `handler(event, context) -> output`."""
        import asyncio

        fn = self._tasks[typename]

        def handler(event: Any, _context: Any = None) -> Any:
            return asyncio.run(call_task(fn, event))

        return handler
