"""A state's data processing in the engine: the asl layer's paths and templates, made safe.

Every call into `baton.workflows.asl` goes through `call_asl`, so anything the language layer
raises other than a `StatesError` (a bug, an unexpected value) fails the state with
States.Runtime instead of the host. The checks of values selected by `*Path` fields
(SecondsPath, TimeoutSecondsPath, MaxConcurrencyPath, ...) report AWS's wording.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from baton.workflows.asl import paths as asl_paths
from baton.workflows.asl import templates as asl_templates
from baton.workflows.asl.errors import StatesError
from baton.workflows.failures import runtime_error


def call_asl(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the asl layer; anything but a StatesError it raises becomes States.Runtime."""
    try:
        return function(*args, **kwargs)
    except StatesError:
        raise
    except Exception as problem:  # a bug or an unexpected value: fail the state, not the host
        raise runtime_error(f"{type(problem).__name__}: {problem}") from problem


def input_path(path: str | None, value: Any, context: dict[str, Any]) -> Any:
    return call_asl(asl_paths.apply_input_path, path, value, context)


def output_path(path: str | None, value: Any, context: dict[str, Any]) -> Any:
    return call_asl(asl_paths.apply_output_path, path, value, context)


def result_path(path: str | None, state_input: Any, result: Any) -> Any:
    return call_asl(asl_paths.apply_result_path, path, state_input, result)


def select(path: str, value: Any, context: dict[str, Any], field: str) -> Any:
    return call_asl(asl_paths.select, path, value, context, field=field)


def render(template: Any, value: Any, context: dict[str, Any], field: str) -> Any:
    return call_asl(asl_templates.render, template, value, context, field=field)


def dynamic(expression: str, value: Any, context: dict[str, Any], field: str) -> Any:
    """ErrorPath/CausePath: a path or an intrinsic function; the result as a string."""
    result = call_asl(asl_templates.evaluate_expression, expression, value, context, field=field)
    return result if isinstance(result, str) else compact_json(result)


def positive(path: str, value: Any, context: dict[str, Any], field: str) -> int:
    """TimeoutSecondsPath/HeartbeatSecondsPath: the positive integer the path selects."""
    seconds = select(path, value, context, field)
    if not is_integer(seconds) or seconds <= 0:
        raise runtime_error(f"The {field} parameter must reference a positive integer: "
                            f"{path} == {text(seconds)}")
    return int(seconds)


def max_concurrency(path: str, value: Any, context: dict[str, Any]) -> int:
    limit = select(path, value, context, "MaxConcurrencyPath")
    if not is_integer(limit):
        shown = limit if isinstance(limit, str) else compact_json(limit)
        raise runtime_error(f'The MaxConcurrencyPath field refers to value "{shown}" which is '
                            f"not a valid integer: {path}")
    if limit < 0:
        raise runtime_error(f"The MaxConcurrencyPath field refers to value \"{limit}\" which is "
                            f"negative: {path}")
    return int(limit)


def is_integer(value: Any) -> bool:
    """An integral JSON number (1 and 1.0, not true)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def text(value: Any) -> str:
    """A value as AWS shows it in a message: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else compact_json(value)


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
