"""Choice rules: operators, type mismatches, missing paths, timestamps, load-time checks."""

from __future__ import annotations

import pytest

from baton.workflows.asl import choice
from baton.workflows.asl.choice import check_rule, choose, evaluate, parse_timestamp
from baton.workflows.asl.errors import StatesError


def holds(rule: dict, data) -> bool:
    return evaluate(rule, data, {})


def test_all_operators_are_known() -> None:
    assert len(choice.OPERATORS) == 39
    for name in ("StringMatches", "IsTimestamp", "IsPresent", "TimestampGreaterThanEqualsPath",
                 "BooleanEqualsPath", "NumericLessThanEqualsPath", "StringGreaterThanPath"):
        assert name in choice.OPERATORS
    assert "BooleanLessThan" not in choice.OPERATORS
    assert "StringMatchesPath" not in choice.OPERATORS


@pytest.mark.parametrize("value", [None, "0", "", [], {}, False, True, [0], {"A": 0}])
def test_numeric_against_non_numbers_is_false(value) -> None:
    assert not holds({"Variable": "$.v", "NumericEquals": 0}, {"v": value})
    assert not holds({"Variable": "$.v", "NumericLessThan": 1}, {"v": value})
    assert not holds({"Variable": "$.v", "NumericEqualsPath": "$.w"}, {"v": value, "w": 0})


def test_numeric() -> None:
    assert holds({"Variable": "$.v", "NumericEquals": 1}, {"v": 1.0})
    assert holds({"Variable": "$.v", "NumericEquals": 0.0}, {"v": 0})
    assert holds({"Variable": "$.v", "NumericGreaterThanEquals": 20}, {"v": 22})
    assert not holds({"Variable": "$.v", "NumericGreaterThan": 0}, {"v": 0})
    assert holds({"Variable": "$.v", "NumericLessThanEqualsPath": "$.w"}, {"v": 0, "w": 1})
    assert not holds({"Variable": "$.v", "NumericEqualsPath": "$.w"}, {"v": 1, "w": "1"})


def test_boolean() -> None:
    assert holds({"Variable": "$.v", "BooleanEquals": True}, {"v": True})
    assert holds({"Variable": "$.v", "BooleanEquals": False}, {"v": False})
    for value in (0, 1, 0.0, "true", None):
        assert not holds({"Variable": "$.v", "BooleanEquals": True}, {"v": value})
        assert not holds({"Variable": "$.v", "BooleanEquals": False}, {"v": value})
    assert holds({"Variable": "$.v", "BooleanEqualsPath": "$.w"}, {"v": False, "w": False})


def test_strings() -> None:
    assert holds({"Variable": "$.v", "StringEquals": "Hello"}, {"v": "Hello"})
    assert not holds({"Variable": "$.v", "StringEquals": "     "}, {"v": " "})
    assert not holds({"Variable": "$.v", "StringEquals": "\t\r\n"}, {"v": "\t\n"})
    assert holds({"Variable": "$.v", "StringLessThan": "AB"}, {"v": "A"})
    assert not holds({"Variable": "$.v", "StringGreaterThan": "ABC"}, {"v": "AB"})
    assert holds({"Variable": "$.v", "StringGreaterThanEquals": ""}, {"v": ""})
    assert not holds({"Variable": "$.v", "StringEquals": "1"}, {"v": 1})
    # UTF-16 order (Java): U+FF61 sorts after U+1F600 as code points, before it as code units
    assert holds({"Variable": "$.v", "StringGreaterThan": "\U0001F600"}, {"v": "\uff61"})


def test_string_matches() -> None:
    rule = {"Variable": "$.v", "StringMatches": "log-*.txt"}
    assert holds(rule, {"v": "log-2024.txt"})
    assert holds(rule, {"v": "log-.txt"})
    assert not holds(rule, {"v": "log-2024.txt.gz"})
    assert not holds(rule, {"v": 5})
    assert holds({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "a*b"})
    assert not holds({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "axb"})
    assert holds({"Variable": "$.v", "StringMatches": "a\\\\*"}, {"v": "a\\anything"})
    assert holds({"Variable": "$.v", "StringMatches": "*.?[x]"}, {"v": "multi\nline.?[x]"})


def test_timestamps() -> None:
    t = {"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"}
    assert holds(t, {"v": "2012-10-09T19:00:55Z"})
    assert holds(t, {"v": "2012-10-09T20:00:55+01:00"})
    assert holds(t, {"v": "2012-10-09T19:00:55.000Z"})
    for value in ("2023-02-24 12:15:56.832957", "2012-10-09T19:00:55", "", " ", 0, None, [], "2023-02-24"):
        assert not holds(t, {"v": value})
    assert holds({"Variable": "$.v", "TimestampLessThan": "2012-10-09T19:00:56Z"},
                 {"v": "2012-10-09T19:00:55.999999999Z"})
    assert holds({"Variable": "$.v", "TimestampGreaterThanPath": "$.w"},
                 {"v": "2012-10-09T19:00:56Z", "w": "2012-10-09T19:00:55Z"})


def test_parse_timestamp() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z") == (0, 0)
    assert parse_timestamp("1970-01-01T01:00:00+01:00") == (0, 0)
    assert parse_timestamp("1970-01-01T00:00:00.5Z") == (0, 500_000_000)
    assert parse_timestamp("2016-12-05T21:29Z") is not None
    for bad in ("2016-12-05T21:29:29", "2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z",
                "2016-12-05 21:29:29Z", "05-12-2016T21:29:29Z", "2016-02-30T00:00:00Z",
                "2016-12-05T21:29:29+19:00", "2016-12-05T21:29:29.1234567890Z", None, 5):
        assert parse_timestamp(bad) is None, bad


@pytest.mark.parametrize("operator, matching, other", [
    ("IsNull", None, 0),
    ("IsNumeric", 1.5, "1"),
    ("IsString", "", 0),
    ("IsBoolean", False, 0),
    ("IsTimestamp", "2016-12-05T21:29:29Z", "2016-12-05T21:29:29"),
])
def test_type_tests(operator: str, matching, other) -> None:
    assert holds({"Variable": "$.v", operator: True}, {"v": matching})
    assert not holds({"Variable": "$.v", operator: True}, {"v": other})
    assert not holds({"Variable": "$.v", operator: False}, {"v": matching})
    assert holds({"Variable": "$.v", operator: False}, {"v": other})


def test_is_present() -> None:
    assert holds({"Variable": "$.v", "IsPresent": True}, {"v": None})
    assert not holds({"Variable": "$.w", "IsPresent": True}, {"v": None})
    assert holds({"Variable": "$.w", "IsPresent": False}, {"v": None})
    assert not holds({"Variable": "$.v", "IsPresent": False}, {"v": None})


@pytest.mark.parametrize("rule", [
    {"Variable": "$.missing", "NumericEquals": 1},
    {"Variable": "$.missing", "IsNull": True},
    {"Variable": "$.missing", "IsString": False},
    {"Not": {"Variable": "$.missing", "StringEquals": "x"}},
])
def test_missing_variable_is_a_runtime_error(rule: dict) -> None:
    with pytest.raises(StatesError) as raised:
        holds(rule, {"v": 1})
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == ("Invalid path '$.missing': The choice state's condition path "
                                  "references an invalid value.")


def test_missing_operand_path_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as raised:
        holds({"Variable": "$.v", "NumericLessThanEqualsPath": "$.right"}, {"v": 8})
    assert raised.value.cause == ("Invalid path '$.right': The choice state's condition path "
                                  "references an invalid value.")


def test_context_variable() -> None:
    rule = {"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}
    assert evaluate(rule, {}, {"Execution": {"Input": {"input-value": 0}}})


def test_and_or_not() -> None:
    twenties = {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                        {"Variable": "$.value", "NumericLessThan": 30}]}
    assert holds(twenties, {"value": 22})
    assert not holds(twenties, {"value": 30})
    either = {"Or": [{"Variable": "$.a", "BooleanEquals": True}, {"Variable": "$.b", "BooleanEquals": True}]}
    assert holds(either, {"a": False, "b": True})
    assert not holds(either, {"a": False, "b": False})
    assert holds({"Not": {"Variable": "$.type", "StringEquals": "Private"}}, {"type": "Public"})
    # short-circuit: the missing path in the second rule is never read
    assert not holds({"And": [{"Variable": "$.a", "BooleanEquals": True},
                              {"Variable": "$.missing", "BooleanEquals": True}]}, {"a": False})
    assert holds({"Or": [{"Variable": "$.a", "BooleanEquals": False},
                         {"Variable": "$.missing", "BooleanEquals": True}]}, {"a": False})


def test_choose() -> None:
    choices = [
        {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
        {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
        {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                 {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"},
    ]
    assert choose(choices, {"type": "Public", "value": 3}, {}) == "Public"
    assert choose(choices, {"type": "Private", "value": 0}, {}) == "ValueIsZero"
    assert choose(choices, {"type": "Private", "value": 25}, {}) == "ValueInTwenties"
    assert choose(choices, {"type": "Private", "value": 3}, {}) is None


def test_check_rule_accepts() -> None:
    for rule in (
        {"Variable": "$.v", "NumericEquals": 1, "Next": "X", "Comment": "c"},
        {"Variable": "$$.Execution.Input.x", "IsPresent": False, "Next": "X"},
        {"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z", "Next": "X"},
        {"Variable": "$.v", "StringMatches": "a\\*b*", "Next": "X"},
        {"Variable": "$.v", "StringEqualsPath": "$.w", "Next": "X"},
        {"And": [{"Variable": "$.v", "IsNull": True, "Comment": "nested"}], "Next": "X"},
        {"Not": {"Or": [{"Variable": "$.a", "BooleanEquals": True}]}, "Next": "X"},
    ):
        check_rule(rule)


@pytest.mark.parametrize("rule, message", [
    ("x", "must be an object"),
    ({"Next": "X"}, "needs `Variable`"),
    ({"Variable": "$.v", "Next": "X"}, "needs one operator"),
    ({"Variable": "$.v", "NumericEqual": 1, "Next": "X"}, "did you mean `NumericEquals`"),
    ({"Variable": "$.v", "NumericEquals": "1", "Next": "X"}, "must be a number"),
    ({"Variable": "$.v", "NumericEquals": True, "Next": "X"}, "must be a number"),
    ({"Variable": "$.v", "StringEquals": 1, "Next": "X"}, "must be a string"),
    ({"Variable": "$.v", "BooleanEquals": "true", "Next": "X"}, "true or false"),
    ({"Variable": "$.v", "IsNull": 1, "Next": "X"}, "true or false"),
    ({"Variable": "$.v", "TimestampEquals": "2012-10-09", "Next": "X"}, "must be a timestamp"),
    ({"Variable": "$.v", "NumericEqualsPath": "v", "Next": "X"}, "must be a path"),
    ({"Variable": "v", "NumericEquals": 1, "Next": "X"}, "`Variable` must be a path"),
    ({"Variable": "$.v", "NumericEquals": 1, "StringEquals": "x", "Next": "X"}, "exactly one operator"),
    ({"Variable": "$.v", "StringMatches": "abc\\", "Next": "X"}, "lone backslash"),
    ({"And": [], "Next": "X"}, "non-empty list"),
    ({"And": [{"Variable": "$.v", "IsNull": True, "Next": "Y"}], "Next": "X"}, "top-level rules only"),
    ({"And": [{"Variable": "$.v", "IsNull": True}], "Or": [], "Next": "X"}, "either one of"),
    ({"Not": [{"Variable": "$.v", "IsNull": True}], "Next": "X"}, "must be an object"),
    ({"Variable": "$.v", "IsNull": True, "Next": "X", "Extra": 1}, "unknown field `Extra`"),
])
def test_check_rule_rejects(rule, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_rule(rule)
