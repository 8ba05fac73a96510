"""Choice rules: comparison operators, their `...Path` forms, type tests, And / Or / Not.

Semantics reproduced from the 491 recorded executions of the choice-operator matrix:

* A comparison whose variable has the wrong type is simply false, never an error:
  `NumericEquals 0` on `"0"`, `null`, `false`, `[]` or `{}` is false; `BooleanEquals` only
  matches real booleans (not 0/1); `TimestampEquals` is false for anything that is not an
  RFC 3339 timestamp with an offset (`"2023-02-24 12:15:56.832957"` is false).
* Numbers compare by value: `1 == 1.0`, `0.0 == 0`.
* Strings compare by UTF-16 code units (Java's `String.compareTo`), with no trimming:
  `" " != "     "`, `"\\t\\n" != "\\t\\r\\n"`, `"AB" < "ABC"`.
* Type tests (`IsNull`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp`) compare the test
  with the operand: `"IsString": false` matches every non-string.
* `IsPresent` is the only operator that tolerates a missing variable. Any other rule whose
  `Variable` (or `...Path` operand) selects nothing fails the state with States.Runtime,
  ``Invalid path '$.x': The choice state's condition path references an invalid value.``
  (AWS's wording; with a Default present too).
* `StringMatches`: `*` matches any run of characters, `\\*` a literal star, `\\\\` a backslash.
* Timestamps are compared as instants, to the nanosecond, across offsets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from baton.diagnostics import did_you_mean

from . import paths
from .errors import STATES_RUNTIME, StatesError

__all__ = [
    "OPERATORS",
    "check_rule",
    "choose",
    "evaluate",
    "parse_timestamp",
]

# --- value kinds ----------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2})(?::(\d{2}))?)"
)


def parse_timestamp(text: Any) -> tuple[int, int] | None:
    """An ISO-8601 date-time with an offset -> (epoch seconds, nanoseconds); None if invalid.

    The format of Java's `ISO_OFFSET_DATE_TIME`, which Step Functions uses (its Wait state
    error says "ISO-8601 extended offset date-time"): `2016-03-14T01:59:00Z`,
    `2016-03-14T01:59:00.123456789+01:00`; seconds may be omitted; the offset may not
    (`2016-12-05T21:29:29` is invalid), nor may the `T` (`2016-12-05 21:29:29Z` is invalid).
    """
    if not isinstance(text, str):
        return None
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute = (int(m.group(i)) for i in range(1, 6))
    second = int(m.group(6) or 0)
    fraction = m.group(7) or ""
    if not (1 <= month <= 12 and hour <= 23 and minute <= 59 and second <= 59):
        return None
    try:
        days = date(year, month, day).toordinal() - date(1970, 1, 1).toordinal()
    except ValueError:
        return None
    offset = 0
    if m.group(9):
        off_h, off_m, off_s = int(m.group(10)), int(m.group(11)), int(m.group(12) or 0)
        if off_m > 59 or off_s > 59:
            return None
        offset = off_h * 3600 + off_m * 60 + off_s
        if offset > 18 * 3600:
            return None
        if m.group(9) == "-":
            offset = -offset
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return seconds, nanos


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


# --- operators ------------------------------------------------------------------------------

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}

# kind -> (is this a value of the kind, key to compare by)
_KINDS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "String": (lambda v: isinstance(v, str), _utf16),
    "Numeric": (_is_number, lambda v: v),
    "Boolean": (lambda v: isinstance(v, bool), lambda v: v),
    "Timestamp": (lambda v: parse_timestamp(v) is not None, parse_timestamp),
}

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}

# operator -> (kind or test, relation, operand is a path)
OPERATORS: dict[str, tuple[str, str, bool]] = {}
for _kind in _KINDS:
    for _relation in _ORDER:
        if _kind == "Boolean" and _relation != "Equals":
            continue
        OPERATORS[f"{_kind}{_relation}"] = (_kind, _relation, False)
        OPERATORS[f"{_kind}{_relation}Path"] = (_kind, _relation, True)
OPERATORS["StringMatches"] = ("String", "Matches", False)
for _test in _TYPE_TESTS:
    OPERATORS[_test] = ("Type", _test, False)
OPERATORS["IsPresent"] = ("Type", "IsPresent", False)
del _kind, _relation, _test

_COMBINATORS = ("And", "Or", "Not")


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        STATES_RUNTIME,
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )


def _operator_of(rule: dict[str, Any]) -> str | None:
    found = [key for key in rule if key in OPERATORS]
    return found[0] if len(found) == 1 else None


def evaluate(rule: dict[str, Any], data: Any, context: Any) -> bool:
    """Whether one choice rule (comparison or And/Or/Not) holds for `data`.

    `Next` and `Comment` are ignored. Raises StatesError(States.Runtime) when a path the rule
    reads selects nothing (except for IsPresent).
    """
    if "And" in rule:
        return all(evaluate(sub, data, context) for sub in rule["And"])
    if "Or" in rule:
        return any(evaluate(sub, data, context) for sub in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], data, context)
    operator = _operator_of(rule)
    if operator is None:
        raise StatesError(STATES_RUNTIME, f"Invalid choice rule: {sorted(rule)}")
    variable = rule.get("Variable")
    if not isinstance(variable, str):  # the definition check requires it; a hand-built rule may not
        raise StatesError(STATES_RUNTIME, f"Invalid choice rule without a Variable: {sorted(rule)}")
    operand = rule[operator]
    kind, relation, operand_is_path = OPERATORS[operator]
    found, value = paths.lookup(variable, data, context)
    if operator == "IsPresent":
        return found == bool(operand)
    if not found:
        raise _invalid_path(variable)
    if kind == "Type":
        return _TYPE_TESTS[relation](value) == bool(operand)
    if operand_is_path:
        found, operand = paths.lookup(operand, data, context)
        if not found:
            raise _invalid_path(rule[operator])
    is_kind, key = _KINDS[kind]
    if not (is_kind(value) and is_kind(operand)):
        return False
    if relation == "Matches":
        return _wildcard(operand).fullmatch(value) is not None
    return _ORDER[relation](key(value), key(operand))


def choose(choices: list[dict[str, Any]], data: Any, context: Any) -> str | None:
    """The `Next` of the first top-level rule that holds; None when none does.

    The caller then goes to `Default`, or fails with States.NoChoiceMatched.
    """
    for rule in choices:
        if evaluate(rule, data, context):
            return rule.get("Next")
    return None


# --- load-time checks -----------------------------------------------------------------------


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_rule(rule: Any, *, top_level: bool = True) -> None:
    """Load-time check of one choice rule; raises ValueError describing the first problem.

    Checks the shape (one comparison with `Variable`, or exactly one of And/Or/Not), unknown
    fields, operand types (`NumericEquals` needs a number, `TimestampEquals` a timestamp,
    `...Path` a path, `Is...` a boolean), and that nested rules carry no `Next`.
    """
    _check(rule, top_level, "rule")


def _check(rule: Any, top_level: bool, where: str) -> None:
    if not isinstance(rule, dict):
        raise ValueError(f"{where}: a choice rule must be an object, not {_show(rule)}")
    allowed_extra = {"Comment", "Next"} if top_level else {"Comment"}
    if not top_level and "Next" in rule:
        raise ValueError(f"{where}: `Next` belongs on top-level rules only, not inside And/Or/Not")
    combinators = [key for key in _COMBINATORS if key in rule]
    operators = [key for key in rule if key in OPERATORS]
    if combinators:
        if len(combinators) > 1 or operators or "Variable" in rule:
            raise ValueError(f"{where}: a rule is either one of And/Or/Not or one comparison "
                             f"with Variable, not {', '.join(combinators + operators)}")
        name = combinators[0]
        for key in rule:
            if key != name and key not in allowed_extra:
                raise ValueError(f"{where}: unknown field `{key}` in a choice rule")
        inner = rule[name]
        if name == "Not":
            _check(inner, False, f"{where}.Not")
        else:
            if not isinstance(inner, list) or not inner:
                raise ValueError(f"{where}: `{name}` must be a non-empty list of rules, not {_show(inner)}")
            for i, sub in enumerate(inner):
                _check(sub, False, f"{where}.{name}[{i}]")
        return
    if "Variable" not in rule:
        unknown = [key for key in rule if key not in allowed_extra]
        hint = f" (found {', '.join(f'`{k}`' for k in unknown)})" if unknown else ""
        raise ValueError(f"{where}: a comparison needs `Variable` and one operator such as "
                         f"StringEquals or NumericGreaterThan{hint}")
    variable = rule["Variable"]
    if not isinstance(variable, str) or not paths.is_valid_path(variable):
        raise ValueError(f"{where}: `Variable` must be a path like `$.field`, not {_show(variable)}")
    for key in rule:
        if key not in OPERATORS and key != "Variable" and key not in allowed_extra:
            raise ValueError(f"{where}: unknown field `{key}` in a choice rule"
                             + _suggest(key))
    if not operators:
        raise ValueError(f"{where}: a comparison needs one operator such as StringEquals, "
                         f"NumericGreaterThan or IsPresent")
    if len(operators) > 1:
        raise ValueError(f"{where}: a comparison has exactly one operator, not "
                         f"{', '.join(operators)}")
    operator = operators[0]
    operand = rule[operator]
    kind, relation, operand_is_path = OPERATORS[operator]
    if operand_is_path:
        if not isinstance(operand, str) or not paths.is_valid_path(operand):
            raise ValueError(f"{where}: `{operator}` must be a path like `$.field`, not {_show(operand)}")
        return
    if kind == "Type":
        if not isinstance(operand, bool):
            raise ValueError(f"{where}: `{operator}` must be true or false, not {_show(operand)}")
        return
    if kind == "String":
        if not isinstance(operand, str):
            raise ValueError(f"{where}: `{operator}` must be a string, not {_show(operand)}")
        if relation == "Matches" and _dangling_backslash(operand):
            raise ValueError(f"{where}: `StringMatches` pattern {_show(operand)} ends with a lone "
                             f"backslash; write \\\\ for a literal backslash")
    elif kind == "Numeric":
        if not _is_number(operand):
            raise ValueError(f"{where}: `{operator}` must be a number, not {_show(operand)}")
    elif kind == "Boolean":
        if not isinstance(operand, bool):
            raise ValueError(f"{where}: `{operator}` must be true or false, not {_show(operand)}")
    elif kind == "Timestamp" and parse_timestamp(operand) is None:
        raise ValueError(f"{where}: `{operator}` must be a timestamp like "
                         f"2016-03-14T01:59:00Z, not {_show(operand)}")


def _dangling_backslash(pattern: str) -> bool:
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            if i + 1 == len(pattern):
                return True
            i += 2
        else:
            i += 1
    return False


def _suggest(key: str) -> str:
    known = [*OPERATORS, "Variable", "Next", "Comment"]
    return did_you_mean(key, known, lead="; did you mean", any_case=False)
