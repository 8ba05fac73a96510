"""Flink `TimeUtils.parseDuration` rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from baton.module import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1500, timedelta(milliseconds=1500)),  # YAML ints are milliseconds
        (0, timedelta(0)),
        ("250", timedelta(milliseconds=250)),
        ("  250  ", timedelta(milliseconds=250)),
        ("3000ns", timedelta(microseconds=3)),
        ("2 nanos", timedelta(0)),
        ("7µs", timedelta(microseconds=7)),
        ("7us", timedelta(microseconds=7)),
        ("7 micros", timedelta(microseconds=7)),
        ("10ms", timedelta(milliseconds=10)),
        ("10 milli", timedelta(milliseconds=10)),
        ("10 millis", timedelta(milliseconds=10)),
        ("10 milliseconds", timedelta(milliseconds=10)),
        ("5s", timedelta(seconds=5)),
        ("5 sec", timedelta(seconds=5)),
        ("5 secs", timedelta(seconds=5)),
        ("5 second", timedelta(seconds=5)),
        ("30seconds", timedelta(seconds=30)),
        ("2m", timedelta(minutes=2)),
        ("1 min", timedelta(minutes=1)),
        ("15min", timedelta(minutes=15)),
        ("3 minute", timedelta(minutes=3)),
        ("3 MINUTES", timedelta(minutes=3)),
        ("1h", timedelta(hours=1)),
        ("2 hours", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("2 Days", timedelta(days=2)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("s", "does not start with a number"),
        ("-5s", "does not start with a number"),  # Flink reads digits only, no sign
        ("1.5s", "time unit '.5s'"),
        ("10 fortnights", "time unit 'fortnights'"),
        ("99999999999999999999ms", "too large for a 64-bit number"),
        ("9999999999999 days", "too large"),
        (-1, "cannot be negative"),
        (True, "must be a number of milliseconds or a string"),
        (1.5, "must be a number of milliseconds or a string"),
    ],
)
def test_parse_duration_rejects(text, fragment):
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        parse_duration(text)
