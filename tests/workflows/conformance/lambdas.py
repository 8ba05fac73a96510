"""The cases' Lambda functions run in-process, on a virtual clock.

A case carries the Python source of each Lambda function its Task states call. This module
compiles that source (with `exec`: the handlers are test data, not product code) and calls the
handler with Lambda's and Step Functions' conventions, so the engine-level runner needs no
Lambda runtime and no real time: `time.sleep(n)` in a handler advances a virtual clock.
"""

from __future__ import annotations

import builtins
import json
import random
import time as real_time
import traceback
import types
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from baton.aws.arns import LAMBDA_INVOKE, NotALambdaFunction, parse_function


@dataclass(frozen=True, slots=True)
class LambdaResult:
    """What one invocation gave: an output, or Step Functions' error and cause."""

    output: Any = None
    error: str | None = None
    cause: str | None = None
    duration: float = 0.0  # virtual seconds the handler slept


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now


class _VirtualTime(types.ModuleType):
    """A `time` module whose clock is virtual: `sleep(n)` advances it instead of blocking."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__("time")
        self._clock = clock

    def time(self) -> float:
        return self._clock.now

    def time_ns(self) -> int:
        return int(self._clock.now * 1e9)

    def monotonic(self) -> float:
        return self._clock.now

    perf_counter = monotonic

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self._clock.now += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(real_time, name)


class _Context:
    """The parts of a Lambda context object handlers commonly use."""

    def __init__(self, name: str, request_id: str, clock: _Clock, deadline: float) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:111111111111:function:{name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "baton"
        self._clock = clock
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now) * 1000))


def _function_arn_name(resource: str) -> str | None:
    """The function named by a full Lambda ARN (a Task's `Resource`), else None."""
    try:
        ref = parse_function(resource)
    except NotALambdaFunction:
        return None
    return ref.name if ref.is_arn else None


def _invoke_function_name(function_name: str) -> str:
    """The function a `lambda:invoke` FunctionName names; unparseable text is kept as is, so
    the "no Lambda function" error shows it."""
    try:
        return parse_function(function_name).name
    except NotALambdaFunction:
        return function_name


class LambdaSimulator:
    """Runs Python Lambda handlers in-process, with Lambda's and Step Functions' conventions.

    - The event is the task input, JSON round-tripped; the result is JSON round-tripped too.
      A handler returning bytes returns raw payload bytes: JSON if they parse, else a string.
    - A raised exception gives error = its class name and cause = the Lambda error payload
      `{"errorMessage", "errorType", "requestId", "stackTrace"}` as JSON.
    - `time.sleep(n)` in a handler advances the virtual clock by n seconds.
    """

    HANDLER_FILE = "/var/task/handler.py"

    def __init__(self, sources: dict[str, str], *, seed: str = "lambda") -> None:
        self.sources = sources
        self._namespaces: dict[str, dict[str, Any]] = {}
        self._random = random.Random(seed)

    def function_for(self, resource: str, task_input: Any) -> tuple[str | None, Any, bool]:
        """(function name, payload, wrap result) for a Task resource, or (None, ...)."""
        if resource.startswith(LAMBDA_INVOKE):
            if isinstance(task_input, dict):
                name = _invoke_function_name(str(task_input.get("FunctionName", "")))
                return name, task_input.get("Payload"), True
            return None, task_input, True
        return _function_arn_name(resource), task_input, False

    def invoke(self, resource: str, task_input: Any, now: float,
               timeout: float | None = None) -> LambdaResult:
        name, payload, wrap = self.function_for(resource, task_input)
        if name is None or name not in self.sources:
            known = ", ".join(sorted(self.sources)) or "none"
            return LambdaResult(error="States.TaskFailed",
                                cause=f"no Lambda function for resource {resource!r} "
                                      f"(functions of this case: {known})")
        clock = _Clock(now)
        request_id = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        namespace = self._namespace(name, clock)
        context = _Context(name, request_id, clock, now + (timeout or 900.0))
        event = json.loads(json.dumps(payload))
        try:
            returned = namespace["handler"](event, context)
        except Exception as exc:  # the function failed: Step Functions' error convention
            return LambdaResult(error=type(exc).__name__,
                                cause=self._error_payload(name, exc, request_id),
                                duration=clock.now - now)
        try:
            output = self._payload(returned)
        except (TypeError, ValueError) as exc:  # what the Python runtime reports
            return LambdaResult(error="Runtime.MarshalError", cause=json.dumps({
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": [],
            }), duration=clock.now - now)
        if wrap:
            output = {"ExecutedVersion": "$LATEST", "Payload": output, "StatusCode": 200}
        return LambdaResult(output=output, duration=clock.now - now)

    def _namespace(self, name: str, clock: _Clock) -> dict[str, Any]:
        """The function's module globals (kept between invocations, like a warm container).

        `time` inside the handler (imported at module level or in the function) is one virtual
        time module per function, pointed at the clock of the current invocation.
        """
        namespace = self._namespaces.get(name)
        if namespace is None:
            fake_time = _VirtualTime(clock)

            def importer(module: str, globals_: Any = None, locals_: Any = None,
                         fromlist: Sequence[str] = (), level: int = 0) -> Any:
                if module == "time" and level == 0:
                    return fake_time
                return builtins.__import__(module, globals_, locals_, fromlist, level)

            namespace = {
                "__name__": "handler", "__file__": self.HANDLER_FILE,
                "__builtins__": {**vars(builtins), "__import__": importer},
                "__baton_time__": fake_time,
            }
            self._namespaces[name] = namespace
            exec(compile(self.sources[name], self.HANDLER_FILE, "exec"), namespace)
        namespace["__baton_time__"]._clock = clock
        return namespace

    @staticmethod
    def _payload(returned: Any) -> Any:
        if isinstance(returned, bytes | bytearray | memoryview):
            text = bytes(returned).decode("utf-8")
            try:
                return json.loads(text)
            except ValueError:
                return text
        return json.loads(json.dumps(returned))

    def _error_payload(self, name: str, exc: BaseException, request_id: str) -> str:
        """The Lambda Python runtime's error payload (the stack trace of the handler file)."""
        source = self.sources[name].splitlines()
        trace = []
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename != self.HANDLER_FILE:
                continue
            entry = f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
            if frame.lineno and 0 < frame.lineno <= len(source):
                entry += f"    {source[frame.lineno - 1].strip()}\n"
            trace.append(entry)
        return json.dumps({
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": trace,
        })
