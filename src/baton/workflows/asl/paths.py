"""Paths as Step Functions applies them: InputPath, OutputPath, ResultPath and path values.

* `select(path, data, context, field=...)`: a path used as a *value* (a `.$` template key, an
  intrinsic argument, ErrorPath/CausePath, ItemsPath ...). `$...` reads `data`, `$$...` reads
  the context object. A definite path that selects nothing fails with
  ``The JSONPath '$.x' specified for the field 'value.$' could not be found in the input '{..}'``
  (recorded cases 014-017); a wildcard/filter/slice path returns a list, `[]` when nothing matches
  (recorded cases 007, 010, 011).
* `apply_input_path` / `apply_output_path`: Jayway's strict reading, with its messages
  (``Invalid path '$.x' : No results for path: $['x']``, recorded cases 018/019/110).
  `None` (`"InputPath": null`) gives `{}` (recorded case 006).
* `apply_result_path(path, state_input, result)`: `None` keeps the input, `$` is the result,
  `$.a.b` puts the result there, creating objects on the way.

All functions are pure: they never modify their arguments, and what they return shares no
mutable part with them.
"""

from __future__ import annotations

import copy
from typing import Any

from . import jsonpath
from ._java import to_json
from .errors import STATES_RESULT_PATH_MATCH_FAILURE, STATES_RUNTIME, StatesError

__all__ = [
    "apply_input_path",
    "apply_output_path",
    "apply_result_path",
    "check_path",
    "check_reference_path",
    "is_valid_path",
    "lookup",
    "read",
    "select",
]

# Fields whose value must be a Reference Path on the state input (no `$$`, one node).
_REFERENCE_FIELDS = frozenset({"ResultPath"})


def _compile(path: str) -> jsonpath.Path:
    try:
        return jsonpath.parse(path)
    except jsonpath.JsonPathSyntaxError as problem:
        raise StatesError(STATES_RUNTIME, str(problem)) from None


def _root(compiled: jsonpath.Path, data: Any, context: Any) -> Any:
    return (context if context is not None else {}) if compiled.context else data


def lookup(path: str, data: Any, context: Any) -> tuple[bool, Any]:
    """(found, value) without raising: a definite path found nothing -> (False, None).

    An indefinite path is always found; its value is the (possibly empty) list of matches.
    For reading only: the value may share parts with `data` / `context`.
    """
    compiled = _compile(path)
    matches = jsonpath.evaluate(compiled, _root(compiled, data, context), strict=False)
    if compiled.definite:
        return (True, matches[0]) if matches else (False, None)
    return True, matches


def select(path: str, data: Any, context: Any, *, field: str) -> Any:
    """The value `path` selects; StatesError(States.Runtime) naming `field` when there is none."""
    found, value = lookup(path, data, context)
    if not found:
        raise StatesError(
            STATES_RUNTIME,
            f"The JSONPath '{path}' specified for the field '{field}' could not be found "
            f"in the input '{to_json(data)}'",
        )
    return copy.deepcopy(value)


def read(path: str, data: Any, context: Any) -> Any:
    """Jayway's strict read, as for InputPath/OutputPath: `Invalid path '<path>' : <reason>`."""
    compiled = _compile(path)
    try:
        matches = jsonpath.evaluate(compiled, _root(compiled, data, context), strict=True)
    except jsonpath.PathNotFound as problem:
        raise StatesError(STATES_RUNTIME, f"Invalid path '{path}' : {problem}") from None
    return copy.deepcopy(matches[0] if compiled.definite else matches)


def apply_input_path(path: str | None, data: Any, context: Any) -> Any:
    """The effective input of a state: `None` -> `{}`, `$` -> data, else the selected value."""
    if path is None:
        return {}
    if path == "$":
        return copy.deepcopy(data)
    return read(path, data, context)


def apply_output_path(path: str | None, data: Any, context: Any) -> Any:
    """The state output after OutputPath: `None` -> `{}`, `$` -> data, else the selected value."""
    return apply_input_path(path, data, context)


def apply_result_path(path: str | None, state_input: Any, result: Any) -> Any:
    """Combine a state's raw input with its result as ResultPath says.

    `None` discards the result; `$` replaces the input; `$.a.b` sets `b` inside `a`, creating
    missing objects. If a step of the path meets something that is not an object (or an array
    index out of range), the state fails with States.ResultPathMatchFailure.
    """
    if path is None:
        return copy.deepcopy(state_input)
    compiled = _compile(path)
    if compiled.context or not compiled.is_reference:
        raise StatesError(STATES_RUNTIME, f"ResultPath '{path}' is not a reference path")
    result = copy.deepcopy(result)
    if not compiled.tokens:
        return result
    output = copy.deepcopy(state_input)
    node = output
    for position, token in enumerate(compiled.tokens):
        last = position == len(compiled.tokens) - 1
        if isinstance(token, jsonpath.Prop):
            key = token.names[0]
            if not isinstance(node, dict):
                raise _result_path_failure(key, state_input)
            if last:
                node[key] = result
            else:
                if key not in node:
                    node[key] = {}
                node = node[key]
        else:
            assert isinstance(token, jsonpath.Index)
            index = token.indexes[0]
            if not isinstance(node, list) or not -len(node) <= index < len(node):
                raise _result_path_failure(str(index), state_input)
            if last:
                node[index] = result
            else:
                node = node[index]
    return output


def _result_path_failure(step: str, state_input: Any) -> StatesError:
    return StatesError(
        STATES_RESULT_PATH_MATCH_FAILURE,
        f"Unable to apply step \"{step}\" to input {to_json(state_input)}",
    )


def is_valid_path(path: Any) -> bool:
    """Whether `path` is a JSONPath (`$...` or `$$...`) Step Functions accepts."""
    try:
        jsonpath.parse(path)
    except jsonpath.JsonPathSyntaxError:
        return False
    return True


def check_path(path: Any, field: str) -> None:
    """Load-time check of a path field; raises ValueError naming `field`.

    `ResultPath` (and any field in the reference-path list) must be a Reference Path on the
    state input: no `$$`, no wildcards, filters, slices or deep scans.
    """
    if not isinstance(path, str):
        raise ValueError(f"`{field}` must be a path string like `$.field`, not {type(path).__name__}")
    try:
        compiled = jsonpath.parse(path)
    except jsonpath.JsonPathSyntaxError as problem:
        raise ValueError(f"`{field}`: {problem}") from None
    if field in _REFERENCE_FIELDS:
        _check_reference(compiled, field)


def check_reference_path(path: Any, field: str = "ResultPath") -> None:
    """Load-time check of a Reference Path (ResultPath and the like); raises ValueError."""
    check_path(path, field)
    _check_reference(jsonpath.parse(path), field)


def _check_reference(compiled: jsonpath.Path, field: str) -> None:
    if compiled.context:
        raise ValueError(f"`{field}` '{compiled.text}' cannot refer to the context object ($$)")
    if not compiled.is_reference:
        raise ValueError(f"`{field}` '{compiled.text}' must be a reference path: only keys and "
                         f"single indexes, no wildcards, filters, slices or '..'")
