"""Intrinsic functions: `States.Format('{} {}', $.a, $.b)` and the seventeen others.

Grammar (as Step Functions accepts it)::

    call     := 'States.' Name '(' [ argument (',' argument)* ] ')'
    argument := 'string' | number | true | false | null | $path | $$path | call

String literals use single quotes; inside them only `\\'`, `\\{`, `\\}` and `\\\\` are escapes
(any other backslash is rejected when the definition loads, as AWS rejects `\\n`). Unescaped
braces are fine in any string (recorded case 138 passes `'{"k": "v"}'` to States.StringToJson);
only States.Format gives `{}` a meaning, and an escaped `\\{` / `\\}` there is a literal brace.

Runtime failures are what AWS reports: error `States.Runtime`, cause
``Invalid arguments in States.<Name>`` for arguments a function refuses; a path argument that
selects nothing fails like any other path (``The JSONPath '$.x' specified for the field ...``).

Behaviour reproduced from recordings (and, marked *observed*, from third-party runs on AWS):

* MathAdd rounds each operand half-up (`Math.round`: 1.5 -> 2, -1.5 -> -1, -0.5 -> 0) and
  needs operands and sum in the 32-bit int range (observed).
* ArrayRange, ArrayPartition, ArrayGetItem and MathRandom *truncate* fractional numbers
  (observed: ArrayPartition(.., 2.6) is chunks of 2, MathRandom(1.4, 1.6) fails).
* ArrayRange is inclusive of `end` and may produce at most 1000 items.
* ArrayContains compares `String.valueOf` renderings (observed: `"true"` contains `true`,
  key order matters for objects).
* ArrayUnique returns `java.util.HashSet` order (observed: `[true, false]` -> `[false, true]`).
* ArrayGetItem on an empty array returns null; an index outside a non-empty array fails
  (observed).
* StringSplit splits on any of the delimiter characters and drops empty pieces
  (`java.util.StringTokenizer`; recorded: `",,,,"` -> `[]`).
* StringToJson of an empty or blank string is null (recorded).
* Format renders objects as `{a=1, b=[]}` and doubles as `1.1` (recorded: Java's toString).
* Base64Decode is lenient: characters outside the alphabet are skipped, decoding stops at `=`
  (observed: `'abc'`, `' YWJjZA== '` and `'ab==cd'` all decode). Base64Encode, Base64Decode
  and Hash refuse inputs longer than 10000 characters.
* Hash renders non-string data with `String.valueOf` before hashing (observed: numbers and
  objects are accepted); the algorithm must be exactly MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
* JsonMerge is shallow: the second object's keys win; a literal `true` (deep merge) is refused.
* MathRandom(start, end[, seed]) is an integer in [start, end); with a seed it is
  `new java.util.Random(seed).nextInt(end - start) + start` (observed: seed 42 over [-5, 5)
  gives -5, which that formula reproduces).

The module stays whole because one table, `FUNCTIONS` (each function's arity, argument types,
result type and implementation), drives both the checks of a parsed call at load time and its
evaluation at run time; the Java behaviours the functions share already live in `_java`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import jsonpath
from ._java import INT_MAX, INT_MIN, JavaRandom, hash_set_order, java_str, to_json
from .errors import STATES_RUNTIME, StatesError

__all__ = [
    "FUNCTIONS",
    "IntrinsicSyntaxError",
    "check",
    "evaluate",
    "is_intrinsic",
    "parse",
]

MAX_STRING_LENGTH = 10_000  # Base64Encode/Base64Decode/Hash input limit
MAX_RANGE_ITEMS = 1_000  # ArrayRange output limit


class IntrinsicSyntaxError(ValueError):
    """The text is not an intrinsic function call Step Functions accepts."""


# --- AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class StringLiteral:
    value: str  # escapes resolved
    raw: str  # as written between the quotes, escapes kept (Format needs to see `\{`)


@dataclass(frozen=True)
class PathArg:
    path: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]
    text: str


# --- parsing --------------------------------------------------------------------------------


def is_intrinsic(text: Any) -> bool:
    """Whether a `.$` value / ErrorPath is meant as an intrinsic call (starts with `States.`)."""
    return isinstance(text, str) and text.lstrip().startswith("States.")


@lru_cache(maxsize=4096)
def parse(text: str) -> Call:
    """Parse an intrinsic call; IntrinsicSyntaxError if it is malformed (names not checked)."""
    if not isinstance(text, str):
        raise IntrinsicSyntaxError(f"an intrinsic function must be a string, not {type(text).__name__}")
    parser = _Parser(text)
    parser.space()
    call = parser.call()
    parser.space()
    if parser.i != len(text):
        raise parser.fail(f"unexpected {text[parser.i:]!r} after the call")
    return call


class _Parser:
    _NAME = re.compile(r"States\.([A-Za-z0-9]+)")
    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, why: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"invalid intrinsic function {self.s!r}: {why}")

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def space(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def call(self) -> Call:
        start = self.i
        m = self._NAME.match(self.s, self.i)
        if not m:
            raise self.fail(f"expected a function name like States.Format at position {self.i}")
        self.i = m.end()
        self.space()
        if self.peek() != "(":
            raise self.fail(f"expected '(' after {m.group()}")
        self.i += 1
        args: list[Any] = []
        self.space()
        if self.peek() == ")":
            self.i += 1
            return Call(m.group(), (), self.s[start:self.i])
        while True:
            self.space()
            args.append(self.argument())
            self.space()
            c = self.peek()
            if c == ",":
                self.i += 1
                continue
            if c == ")":
                self.i += 1
                return Call(m.group(), tuple(args), self.s[start:self.i])
            if not c:
                raise self.fail("missing ')'")
            raise self.fail(f"expected ',' or ')' at position {self.i}, found {c!r}")

    def argument(self) -> Any:
        c = self.peek()
        if c == "'":
            return self.string()
        if c == "$":
            return self.path()
        if self.s.startswith("States.", self.i):
            return self.call()
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.s.startswith(word, self.i) and not self._word_char(self.i + len(word)):
                self.i += len(word)
                return Literal(value)
        m = self._NUMBER.match(self.s, self.i)
        if m and not self._word_char(m.end()) and (m.end() >= len(self.s) or self.s[m.end()] != "."):
            self.i = m.end()
            text = m.group()
            number = float(text) if any(ch in text for ch in ".eE") else int(text)
            return Literal(number)
        if not c or c in ",)":
            raise self.fail(f"missing argument at position {self.i}")
        raise self.fail(f"unexpected {self.s[self.i:]!r}; arguments are 'strings', numbers, "
                        f"true, false, null, $paths or States.* calls")

    def _word_char(self, j: int) -> bool:
        return j < len(self.s) and (self.s[j].isalnum() or self.s[j] in "_.")

    def string(self) -> StringLiteral:
        self.i += 1
        start = self.i
        out: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise self.fail("unterminated string literal")
            ch = self.s[self.i]
            if ch == "\\":
                nxt = self.s[self.i + 1] if self.i + 1 < len(self.s) else ""
                if nxt not in ("'", "{", "}", "\\"):
                    shown = "\\" + nxt if nxt else "a trailing \\"
                    raise self.fail(f"{shown!r} is not an escape; inside a string literal only "
                                    f"\\' \\{{ \\}} and \\\\ are")
                out.append(nxt)
                self.i += 2
                continue
            if ch == "'":
                raw = self.s[start:self.i]
                self.i += 1
                return StringLiteral("".join(out), raw)
            out.append(ch)
            self.i += 1

    def path(self) -> PathArg:
        start = self.i
        depth = 0
        quote = ""
        while self.i < len(self.s):
            ch = self.s[self.i]
            if quote:
                if ch == "\\":
                    self.i += 1
                elif ch == quote:
                    quote = ""
            elif ch in ("'", '"') and depth:
                quote = ch
            elif ch in "[(":
                depth += 1
            elif ch in "])":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            self.i += 1
        text = self.s[start:self.i].rstrip()
        try:
            jsonpath.parse(text)
        except jsonpath.JsonPathSyntaxError as problem:
            raise self.fail(str(problem)) from None
        return PathArg(text)


# --- the functions --------------------------------------------------------------------------

ANY, STRING, NUMBER, BOOLEAN, ARRAY, OBJECT = "any", "string", "number", "boolean", "array", "object"


class _Invalid(Exception):
    """Arguments a function refuses at run time."""


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    params: tuple[str, ...]  # the static type of each parameter (the last repeats)
    returns: str
    run: Callable[..., Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _need(condition: bool) -> None:
    if not condition:
        raise _Invalid


def _truncated(value: Any) -> int:
    """`Number.intValue()` of a JSON number, refusing what does not fit in an int."""
    _need(_is_number(value))
    if isinstance(value, float):
        _need(math.isfinite(value))
        value = int(value)
    _need(INT_MIN <= value <= INT_MAX)
    return value


def _rounded(value: Any) -> int:
    """`Math.round(value)`: half up, towards positive infinity; must fit in an int."""
    _need(_is_number(value))
    if isinstance(value, float):
        _need(math.isfinite(value))
        whole = math.floor(value)
        value = whole + 1 if value - whole >= 0.5 else whole
    _need(INT_MIN <= value <= INT_MAX)
    return int(value)


def _format(template: Any, *args: Any, _raw: str | None = None) -> str:
    _need(isinstance(template, str))
    text = _raw if _raw is not None else template
    out: list[str] = []
    placeholders = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == "{":
            _need(text.startswith("{}", i))
            _need(placeholders < len(args))
            out.append(java_str(args[placeholders]))
            placeholders += 1
            i += 2
            continue
        _need(ch != "}")
        out.append(ch)
        i += 1
    _need(placeholders == len(args))
    return "".join(out)


def _string_to_json(text: Any) -> Any:
    _need(isinstance(text, str))
    stripped = text.strip(" \t\r\n")
    if not stripped:
        return None

    def no_constants(name: str) -> Any:
        raise _Invalid

    decoder = json.JSONDecoder(parse_constant=no_constants)
    try:
        value, end = decoder.raw_decode(stripped)
    except json.JSONDecodeError:
        raise _Invalid from None
    # Jackson reads one value and ignores what follows, unless it is glued to a scalar.
    if end < len(stripped) and not isinstance(value, dict | list) and (
            stripped[end].isalnum() or stripped[end] in "_.\"'"):
        raise _Invalid
    return value


def _json_to_string(value: Any) -> str:
    return to_json(value)


def _array(*values: Any) -> list[Any]:
    return list(values)


def _array_partition(array: Any, size: Any) -> list[list[Any]]:
    _need(isinstance(array, list))
    chunk = _truncated(size)
    _need(chunk > 0)
    return [array[i:i + chunk] for i in range(0, len(array), chunk)]


def _array_contains(array: Any, value: Any) -> bool:
    _need(isinstance(array, list))
    wanted = java_str(value)
    return any(java_str(item) == wanted for item in array)


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    first, last, stride = _truncated(start), _truncated(end), _truncated(step)
    _need(stride != 0)
    stop = last + 1 if stride > 0 else last - 1
    count = len(range(first, stop, stride))
    _need(count <= MAX_RANGE_ITEMS)
    return list(range(first, stop, stride))


def _array_get_item(array: Any, index: Any) -> Any:
    _need(isinstance(array, list))
    position = _truncated(index)
    if not array:
        return None
    _need(0 <= position < len(array))
    return array[position]


def _array_length(array: Any) -> int:
    _need(isinstance(array, list))
    return len(array)


def _array_unique(array: Any) -> list[Any]:
    _need(isinstance(array, list))
    return hash_set_order(array)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _base64_encode(text: Any) -> str:
    _need(isinstance(text, str) and _utf16_length(text) <= MAX_STRING_LENGTH)
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


_B64_VALUES = {ch: i for i, ch in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_B64_VALUES.update({"-": 62, "_": 63})


def _base64_decode(text: Any) -> str:
    _need(isinstance(text, str) and _utf16_length(text) <= MAX_STRING_LENGTH)
    sextets: list[int] = []
    for ch in text:
        if ch == "=":
            break
        value = _B64_VALUES.get(ch)
        if value is not None:
            sextets.append(value)
    out = bytearray()
    for i in range(0, len(sextets) - len(sextets) % 4, 4):
        a, b, c, d = sextets[i:i + 4]
        bits = (a << 18) | (b << 12) | (c << 6) | d
        out += bytes(((bits >> 16) & 0xFF, (bits >> 8) & 0xFF, bits & 0xFF))
    rest = sextets[len(sextets) - len(sextets) % 4:]
    if len(rest) == 2:
        out.append(((rest[0] << 2) | (rest[1] >> 4)) & 0xFF)
    elif len(rest) == 3:
        bits = (rest[0] << 12) | (rest[1] << 6) | rest[2]
        out += bytes(((bits >> 10) & 0xFF, (bits >> 2) & 0xFF))
    return out.decode("utf-8", "replace")


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
           "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any) -> str:
    _need(isinstance(algorithm, str) and algorithm in _HASHES)
    _need(data is not None)
    text = data if isinstance(data, str) else java_str(data)
    _need(_utf16_length(text) <= MAX_STRING_LENGTH)
    return hashlib.new(_HASHES[algorithm], text.encode("utf-8", "surrogatepass")).hexdigest()


def _json_merge(first: Any, second: Any, deep: Any) -> dict[str, Any]:
    _need(isinstance(first, dict) and isinstance(second, dict))
    _need(deep is not True)
    merged = dict(first)
    merged.update(second)
    return merged


def _math_random(start: Any, end: Any, *seed: Any) -> int:
    low, high = _truncated(start), _truncated(end)
    _need(low < high and high - low <= INT_MAX)
    if seed:
        _need(_is_number(seed[0]))
        value = seed[0]
        if isinstance(value, float):
            _need(math.isfinite(value))
            value = int(value)
        return low + JavaRandom(int(value)).next_int(high - low)
    return random.randrange(low, high)


def _math_add(a: Any, b: Any) -> int:
    total = _rounded(a) + _rounded(b)
    _need(INT_MIN <= total <= INT_MAX)
    return total


def _string_split(text: Any, delimiters: Any) -> list[str]:
    _need(isinstance(text, str) and isinstance(delimiters, str))
    if not delimiters:
        return [text] if text else []
    pieces = re.split("[" + "".join(re.escape(ch) for ch in set(delimiters)) + "]", text)
    return [piece for piece in pieces if piece]


def _uuid() -> str:
    return str(uuid.uuid4())


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("States.Format", 1, None, (STRING, ANY), STRING, _format),
    Function("States.StringToJson", 1, 1, (STRING,), ANY, _string_to_json),
    Function("States.JsonToString", 1, 1, (ANY,), STRING, _json_to_string),
    Function("States.Array", 0, None, (ANY,), ARRAY, _array),
    Function("States.ArrayPartition", 2, 2, (ARRAY, NUMBER), ARRAY, _array_partition),
    Function("States.ArrayContains", 2, 2, (ARRAY, ANY), BOOLEAN, _array_contains),
    Function("States.ArrayRange", 3, 3, (NUMBER, NUMBER, NUMBER), ARRAY, _array_range),
    Function("States.ArrayGetItem", 2, 2, (ARRAY, NUMBER), ANY, _array_get_item),
    Function("States.ArrayLength", 1, 1, (ARRAY,), NUMBER, _array_length),
    Function("States.ArrayUnique", 1, 1, (ARRAY,), ARRAY, _array_unique),
    Function("States.Base64Encode", 1, 1, (STRING,), STRING, _base64_encode),
    Function("States.Base64Decode", 1, 1, (STRING,), STRING, _base64_decode),
    Function("States.Hash", 2, 2, (ANY, STRING), STRING, _hash),
    Function("States.JsonMerge", 3, 3, (OBJECT, OBJECT, ANY), OBJECT, _json_merge),
    Function("States.MathRandom", 2, 3, (NUMBER, NUMBER, NUMBER), NUMBER, _math_random),
    Function("States.MathAdd", 2, 2, (NUMBER, NUMBER), NUMBER, _math_add),
    Function("States.StringSplit", 2, 2, (STRING, STRING), ARRAY, _string_split),
    Function("States.UUID", 0, 0, (), STRING, _uuid),
)}


# --- load-time checks -----------------------------------------------------------------------


def _static_type(arg: Any) -> str:
    if isinstance(arg, StringLiteral):
        return STRING
    if isinstance(arg, Literal):
        value = arg.value
        if value is None:
            return "null"
        if isinstance(value, bool):
            return BOOLEAN
        return NUMBER
    if isinstance(arg, Call):
        function = FUNCTIONS.get(arg.name)
        return function.returns if function else ANY
    return ANY  # a path: known only at run time


def _check_call(call: Call) -> None:
    function = FUNCTIONS.get(call.name)
    if function is None:
        known = ", ".join(sorted(FUNCTIONS))
        raise IntrinsicSyntaxError(f"unknown intrinsic function {call.name}; known: {known}")
    count = len(call.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        if function.max_args is None:
            wanted = f"at least {function.min_args}"
        elif function.min_args == function.max_args:
            wanted = str(function.min_args)
        else:
            wanted = f"{function.min_args} to {function.max_args}"
        raise IntrinsicSyntaxError(
            f"{call.name} takes {wanted} argument{'s' if wanted != '1' else ''}, not {count}: {call.text}")
    for position, arg in enumerate(call.args):
        if isinstance(arg, Call):
            _check_call(arg)
        if not function.params:
            continue
        wanted = function.params[min(position, len(function.params) - 1)]
        found = _static_type(arg)
        if wanted != ANY and found != ANY and found != wanted:
            raise IntrinsicSyntaxError(
                f"argument {position + 1} of {call.name} must be a{'n' if wanted[0] in 'ao' else ''} "
                f"{wanted}, not {found}: {call.text}")
    if call.name == "States.JsonMerge" and isinstance(call.args[2], Literal) and call.args[2].value is True:
        raise IntrinsicSyntaxError(
            f"States.JsonMerge only merges shallowly: its third argument must be false: {call.text}")
    if call.name == "States.Hash" and isinstance(call.args[1], StringLiteral) and \
            call.args[1].value not in _HASHES:
        raise IntrinsicSyntaxError(
            f"States.Hash algorithm must be one of {', '.join(_HASHES)}, not "
            f"{call.args[1].value!r}: {call.text}")
    if call.name == "States.Format" and isinstance(call.args[0], StringLiteral):
        try:
            _format(call.args[0].value, *([None] * (count - 1)), _raw=call.args[0].raw)
        except _Invalid:
            raise IntrinsicSyntaxError(
                f"States.Format: the template needs exactly one argument per {{}} and no lone "
                f"braces (escape them as \\{{ \\}}): {call.text}") from None


def check(expression: Any) -> None:
    """Load-time check: syntax, function names, argument counts and literal argument types.

    Raises ValueError (IntrinsicSyntaxError) with a message naming the problem. AWS itself
    accepts some of these definitions and fails the execution instead (with
    ``Invalid arguments in States.X``); rejecting them at load is deliberate.
    """
    _check_call(parse(expression))


# --- evaluation -----------------------------------------------------------------------------


def evaluate(expression: str, data: Any, context: Any, *, field: str | None = None) -> Any:
    """Run an intrinsic call against the state's data and the context object (`$$`).

    `field` is the template key or field name (`value.$`, `ErrorPath`) that AWS names when a
    path argument selects nothing. Raises StatesError(States.Runtime, ...) on failure.
    """
    try:
        call = parse(expression)
    except IntrinsicSyntaxError as problem:
        raise StatesError(STATES_RUNTIME, str(problem)) from None
    return _run(call, data, context, field)


def _argument(arg: Any, data: Any, context: Any, field: str | None) -> Any:
    if isinstance(arg, StringLiteral):
        return arg.value
    if isinstance(arg, Literal):
        return arg.value
    if isinstance(arg, PathArg):
        from .paths import lookup  # paths imports nothing from here; keep the import local

        found, value = lookup(arg.path, data, context)
        if not found:
            where = f" specified for the field '{field}'" if field else ""
            raise StatesError(
                STATES_RUNTIME,
                f"The JSONPath '{arg.path}'{where} could not be found in the input '{to_json(data)}'",
            )
        return copy.deepcopy(value)
    return _run(arg, data, context, field)


def _run(call: Call, data: Any, context: Any, field: str | None) -> Any:
    function = FUNCTIONS.get(call.name)
    if function is None:
        raise StatesError(STATES_RUNTIME, f"Unknown intrinsic function {call.name}")
    values = [_argument(arg, data, context, field) for arg in call.args]
    count = len(values)
    try:
        _need(count >= function.min_args and (function.max_args is None or count <= function.max_args))
        if call.name == "States.Format" and isinstance(call.args[0], StringLiteral):
            return _format(*values, _raw=call.args[0].raw)
        return function.run(*values)
    except _Invalid:
        raise StatesError(STATES_RUNTIME, f"Invalid arguments in {call.name}") from None
