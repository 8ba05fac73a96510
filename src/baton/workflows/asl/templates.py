"""Payload templates: Parameters, ResultSelector, ItemSelector (and the Map `Parameters`).

A template is a JSON value. Inside objects, at any depth (also inside arrays), a key ending in
`.$` takes its value from a path (`$...` on the data, `$$...` on the context object) or an
intrinsic function call, and loses the `.$` suffix; every other key and value is copied as is.
A key ending in `$` without the dot is an ordinary key (recorded case 002 shows the same for
`Result`, which is never a template). `Comment` inside a template is an ordinary key (case 004).

When a path selects nothing, AWS names the *key* in its message (``... specified for the field
'value.$' ...``, recorded cases 015/016), so that is what `render` reports.
"""

from __future__ import annotations

import copy
from typing import Any

from . import intrinsics, jsonpath, paths
from .errors import STATES_RUNTIME, StatesError

__all__ = ["check_template", "evaluate_expression", "render"]

_SUFFIX = ".$"


def evaluate_expression(expression: Any, data: Any, context: Any, *, field: str) -> Any:
    """The value of a dynamic field: a path (`$`, `$$`) or an intrinsic function call.

    Used for `.$` template values and for fields such as ErrorPath/CausePath. `field` is the
    name AWS quotes when a path selects nothing.
    """
    if isinstance(expression, str) and expression.startswith("$"):
        return paths.select(expression, data, context, field=field)
    if intrinsics.is_intrinsic(expression):
        return intrinsics.evaluate(expression, data, context, field=field)
    raise StatesError(
        STATES_RUNTIME,
        f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic "
        f"function call",
    )


def render(template: Any, data: Any, context: Any, *, field: str = "Parameters") -> Any:
    """Build the value a template describes for `data` (the effective input) and `context`.

    `field` names the template (Parameters, ResultSelector, ItemSelector); messages about a
    `.$` key name the key itself, as AWS does. Raises StatesError (States.Runtime).
    """
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if isinstance(key, str) and key.endswith(_SUFFIX):
                out[key[: -len(_SUFFIX)]] = evaluate_expression(value, data, context, field=key)
            else:
                out[key] = render(value, data, context, field=field)
        return out
    if isinstance(template, list):
        return [render(item, data, context, field=field) for item in template]
    return copy.deepcopy(template)


def check_template(template: Any, field: str = "Parameters") -> None:
    """Load-time check of a template; raises ValueError naming the faulty key.

    Every `.$` key needs a string value that is a valid path or a valid intrinsic call, and a
    key may not appear both with and without `.$` in the same object.
    """
    problems: list[str] = []
    _check(template, field, problems, field)
    if problems:
        raise ValueError(problems[0] if len(problems) == 1 else
                         f"{problems[0]} (and {len(problems) - 1} more: {'; '.join(problems[1:])})")


def _check(template: Any, where: str, problems: list[str], field: str) -> None:
    if isinstance(template, dict):
        for key, value in template.items():
            here = f"{where}.{key}"
            if isinstance(key, str) and key.endswith(_SUFFIX):
                plain = key[: -len(_SUFFIX)]
                if not plain:
                    problems.append(f"`{here}`: a key cannot be just '.$'")
                if plain in template:
                    problems.append(f"`{where}` has both `{plain}` and `{key}`")
                if not isinstance(value, str):
                    problems.append(f"`{here}` must be a path like `$.field` or an intrinsic "
                                    f"function like `States.Format(...)`, not {type(value).__name__}")
                elif value.startswith("$"):
                    try:
                        jsonpath.parse(value)
                    except jsonpath.JsonPathSyntaxError as problem:
                        problems.append(f"`{here}`: {problem}")
                elif intrinsics.is_intrinsic(value):
                    try:
                        intrinsics.check(value)
                    except ValueError as problem:
                        problems.append(f"`{here}`: {problem}")
                else:
                    problems.append(f"`{here}` must be a path like `$.field` or an intrinsic "
                                    f"function like `States.Format(...)`, not {value!r}")
            else:
                _check(value, here, problems, field)
    elif isinstance(template, list):
        for i, item in enumerate(template):
            _check(item, f"{where}[{i}]", problems, field)
