"""How the JVM behind Step Functions renders, compares and hashes JSON values.

Step Functions is written in Java: JSON values become `String`, `Integer`/`Long`, `Double`,
`Boolean`, `ArrayList`, `LinkedHashMap` and `null`, and several observable results come straight
from those classes:

* `States.Format` and `States.ArrayContains` use `String.valueOf(value)`: objects print as
  `{a=1, b=[]}`, arrays as `[1, 2]`, doubles as `1.0` / `1.0E20` (recorded: case
  intrinsic-format-two-args-07).
* `States.ArrayUnique` goes through a `java.util.HashSet`, so its output is in hash-bucket order,
  not first-seen order.
* Error causes embed the state input as compact JSON written by Jackson.
* `States.MathRandom` with a seed draws from `java.util.Random(seed)`.

Everything here is pure and works on ordinary Python JSON values.
"""

from __future__ import annotations

import json
import math
import struct
from decimal import Decimal
from typing import Any

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "JavaRandom",
    "hash_set_order",
    "java_class_name",
    "java_double_str",
    "java_equal_key",
    "java_hash",
    "java_str",
    "to_json",
    "type_name",
]

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def java_double_str(value: float) -> str:
    """`Double.toString(value)`: `1.0`, `0.001`, `1.0E7`, `1.0E-4`, `-0.0`, `NaN`, `Infinity`.

    Digits are the shortest that round-trip (what `repr` gives, and what JDK 19+ prints).
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent = int(exponent) + (len(digits) - len(stripped))
    digits = stripped
    # value == int(digits) * 10**exponent; scientific exponent of the first digit:
    sci = len(digits) - 1 + exponent
    if -3 <= sci < 7:
        if exponent >= 0:
            whole, fraction = digits + "0" * exponent, "0"
        else:
            point = len(digits) + exponent
            if point > 0:
                whole, fraction = digits[:point], digits[point:]
            else:
                whole, fraction = "0", "0" * -point + digits
        return f"{sign}{whole}.{fraction or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{sci}"


def java_str(value: Any) -> str:
    """`String.valueOf(value)` for the Java object Jackson would have built from `value`."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_str(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_str(item)}" for key, item in value.items()) + "}"
    return str(value)


def _encode(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, float):
        parts.append(java_double_str(value))
    elif isinstance(value, str):
        parts.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, list | tuple):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    elif isinstance(value, dict):
        parts.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                parts.append(",")
            parts.append(json.dumps(str(key), ensure_ascii=False))
            parts.append(":")
            _encode(item, parts)
        parts.append("}")
    else:
        parts.append(json.dumps(str(value), ensure_ascii=False))


def to_json(value: Any) -> str:
    """Compact JSON as Jackson writes it: no spaces, non-ASCII kept, doubles like `1.0E20`."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def java_class_name(value: Any) -> str:
    """The class Jackson (untyped binding) would give `value`; `null` for None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return "java.lang.Integer"
        if LONG_MIN <= value <= LONG_MAX:
            return "java.lang.Long"
        return "java.math.BigInteger"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, list):
        return "java.util.ArrayList"
    if isinstance(value, dict):
        return "java.util.LinkedHashMap"
    return type(value).__name__


def type_name(value: Any) -> str:
    """A JSON type name for messages: null, boolean, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _string_hash(text: str) -> int:
    h = 0
    for unit in _utf16_units(text):
        h = (31 * h + unit) & 0xFFFFFFFF
    return _int32(h)


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-be", "surrogatepass")
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]


def java_hash(value: Any) -> int:
    """`value.hashCode()` of the Java object Jackson builds; 0 for null (as `HashMap` uses)."""
    if value is None:
        return 0
    if value is True:
        return 1231
    if value is False:
        return 1237
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return value
        if LONG_MIN <= value <= LONG_MAX:
            unsigned = value & 0xFFFFFFFFFFFFFFFF
            return _int32(unsigned ^ (unsigned >> 32))
        # BigInteger.hashCode: over the big-endian int magnitude words, times the sign
        magnitude = abs(value)
        words: list[int] = []
        while magnitude:
            words.append(magnitude & 0xFFFFFFFF)
            magnitude >>= 32
        h = 0
        for word in reversed(words):
            h = (31 * h + word) & 0xFFFFFFFF
        return _int32(h * (1 if value > 0 else -1))
    if isinstance(value, float):
        bits = 0x7FF8000000000000 if math.isnan(value) else struct.unpack(">Q", struct.pack(">d", value))[0]
        return _int32(bits ^ (bits >> 32))
    if isinstance(value, str):
        return _string_hash(value)
    if isinstance(value, list | tuple):
        h = 1
        for item in value:
            h = (31 * h + java_hash(item)) & 0xFFFFFFFF
        return _int32(h)
    if isinstance(value, dict):
        h = 0
        for key, item in value.items():
            h = (h + (java_hash(str(key)) ^ java_hash(item))) & 0xFFFFFFFF
        return _int32(h)
    return _int32(hash(value))


def java_equal_key(value: Any) -> Any:
    """A hashable key equal for two values exactly when Java's `equals` says so."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return ("Integer", value)
        if LONG_MIN <= value <= LONG_MAX:
            return ("Long", value)
        return ("BigInteger", value)
    if isinstance(value, float):
        return ("Double", value)
    if isinstance(value, str):
        return ("String", value)
    if isinstance(value, list | tuple):
        return ("List", tuple(java_equal_key(item) for item in value))
    if isinstance(value, dict):
        return ("Map", frozenset((str(k), java_equal_key(v)) for k, v in value.items()))
    return ("other", repr(value))


def hash_set_order(values: list[Any]) -> list[Any]:
    """The distinct values in the order `new ArrayList<>(new HashSet<>(values))` yields them.

    `HashSet(Collection c)` sizes its table to `max(c.size()/.75f + 1, 16)` rounded up to a power
    of two, so the table never resizes while filling; iteration then goes bucket by bucket,
    and inside a bucket in insertion order (bins never get long enough to treeify here in
    practice: that needs 8 colliding entries).
    """
    capacity = 1
    wanted = max(int(len(values) / 0.75) + 1, 16)
    while capacity < wanted:
        capacity <<= 1
    buckets: dict[int, list[Any]] = {}
    seen: set[Any] = set()
    for value in values:
        key = java_equal_key(value)
        if key in seen:
            continue
        seen.add(key)
        h = java_hash(value) & 0xFFFFFFFF
        spread = h ^ (h >> 16)
        buckets.setdefault(spread & (capacity - 1), []).append(value)
    return [value for index in sorted(buckets) for value in buckets[index]]


class JavaRandom:
    """`java.util.Random`: the 48-bit linear congruential generator, bit for bit."""

    _MULTIPLIER = 0x5DEECE66D
    _ADDEND = 0xB
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + self._ADDEND) & self._MASK
        result = self._seed >> (48 - bits)
        return _int32(result) if bits == 32 else result

    def next_int(self, bound: int) -> int:
        """`nextInt(bound)` for 0 < bound <= 2**31-1."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        if bound & -bound == bound:  # a power of two
            return (bound * self._next(31)) >> 31
        while True:
            bits = self._next(31)
            value = bits % bound
            if bits - value + (bound - 1) < 2**31:
                return value
