"""Durations as StateFun reads them: Flink `TimeUtils.parseDuration` (statefun-reference §1.7)."""

from __future__ import annotations

from datetime import timedelta

_NANOS_PER = {
    "days": 86_400 * 10**9,
    "hours": 3_600 * 10**9,
    "minutes": 60 * 10**9,
    "seconds": 10**9,
    "millis": 10**6,
    "micros": 10**3,
    "nanos": 1,
}


def _labels(unit: str, singular: tuple[str, ...], plural: tuple[str, ...]) -> dict[str, str]:
    """Flink's `TimeUnit` label table: long forms also take a plural "s"."""
    table = dict.fromkeys(singular, unit)
    for label in plural:
        table[label] = table[label + "s"] = unit
    return table


# Flink 1.16 `TimeUtils.TimeUnit`, in Flink's order.
_FLINK_UNITS: dict[str, str] = {
    **_labels("days", ("d",), ("day",)),
    **_labels("hours", ("h",), ("hour",)),
    **_labels("minutes", ("min", "m"), ("minute",)),
    **_labels("seconds", ("s",), ("sec", "second")),
    **_labels("millis", ("ms",), ("milli", "millisecond")),
    **_labels("micros", ("µs",), ("micro", "microsecond")),
    **_labels("nanos", ("ns",), ("nano", "nanosecond")),
}
# `us` is not a Flink label; baton accepts it because `µ` is awkward to type. The loader warns
# about it, since a real StateFun cluster would reject the file.
_UNITS: dict[str, str] = {**_FLINK_UNITS, "us": "micros"}

FLINK_LABELS: frozenset[str] = frozenset(_FLINK_UNITS)
_MAX_LONG = 2**63 - 1


def parse_duration(value: str | int) -> timedelta:
    """Parse a duration like Flink `TimeUtils.parseDuration`; a bare number or an int is ms."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(
            f"a duration must be a number of milliseconds or a string such as '10s', got {value!r}"
        )
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        return _to_timedelta(value, "millis")
    text = value.strip()
    if not text:
        raise ValueError("a duration cannot be empty; write a number with a unit such as '10s'")
    number, unit = _split(text)
    if not number:
        raise ValueError(
            f"duration {value!r} does not start with a number; "
            "write it like '10s', '2 min' or '500'"
        )
    amount = int(number)
    if amount > _MAX_LONG:
        raise ValueError(f"duration {value!r} is too large for a 64-bit number")
    if not unit:
        return _to_timedelta(amount, "millis")
    if unit not in _UNITS:
        raise ValueError(
            f"time unit {unit!r} in duration {value!r} is not recognised; "
            f"use one of {', '.join(_FLINK_UNITS)}"
        )
    return _to_timedelta(amount, _UNITS[unit])


def duration_unit(text: str) -> str | None:
    """The lower-cased unit label of a duration string, or None for a bare number."""
    return _split(text.strip())[1] or None


def _split(text: str) -> tuple[str, str]:
    """Leading ASCII digits, then the trimmed lower-cased rest (Flink reads no sign)."""
    digits = len(text) - len(text.lstrip("0123456789"))
    return text[:digits], text[digits:].strip().lower()


def _to_timedelta(amount: int, unit: str) -> timedelta:
    # timedelta has microsecond resolution, so sub-microsecond parts of `ns` values are dropped.
    try:
        return timedelta(microseconds=amount * _NANOS_PER[unit] // 1000)
    except OverflowError:
        raise ValueError(f"a duration of {amount} {unit} is too large") from None
