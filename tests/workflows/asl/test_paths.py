"""InputPath, OutputPath, ResultPath and path values, with AWS's error texts."""

from __future__ import annotations

import pytest

from baton.workflows.asl import paths
from baton.workflows.asl.errors import StatesError

CONTEXT = {"Execution": {"Input": {"input-value": 0}, "Name": "run-1"},
           "State": {"Name": "StartState"}}


# --- select ---------------------------------------------------------------------------------


def test_select_definite_and_context() -> None:
    data = {"items": [{"k": 0}, {"k": 1}], "a": {"b": None}}
    assert paths.select("$.items[0]", data, CONTEXT, field="item.$") == {"k": 0}
    assert paths.select("$.items[1].k", data, CONTEXT, field="x") == 1
    assert paths.select("$.a.b", data, CONTEXT, field="x") is None
    assert paths.select("$", data, CONTEXT, field="x") == data
    assert paths.select("$", data, CONTEXT, field="x") is not data  # a copy
    assert paths.select("$$.Execution.Input", data, CONTEXT, field="x") == {"input-value": 0}
    assert paths.select("$$.State.Name", data, CONTEXT, field="x") == "StartState"
    assert paths.select("$$", data, CONTEXT, field="x") == CONTEXT


def test_select_indefinite_returns_lists() -> None:
    data = {"users": [{"status": 0, "n": 1}, {"status": 1, "n": 2}]}
    assert paths.select("$.users[?(@.status == 0)]", data, {}, field="x") == [{"status": 0, "n": 1}]
    assert paths.select("$.users[*].n", data, {}, field="x") == [1, 2]
    # Recorded cases 010/011 and variants: nothing matched is [] not an error.
    for path in ("$[*]", "$.item.items[:1]", "$.items[1:]", "$.items[*].itemValue"):
        assert paths.select(path, {}, {}, field="x") == []


@pytest.mark.parametrize("path, field, data, cause", [
    ("$.no_such_jsonpath", "value.$", {"int-literal": 0},
     "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in "
     "the input '{\"int-literal\":0}'"),
    ("$$.Execution.Input.no_such_jsonpath", "value.$", {"int-literal": 0},
     "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could "
     "not be found in the input '{\"int-literal\":0}'"),
    ("$.ErrorX", "ErrorPath", {"Error": "e", "n": 1.0, "s": "é"},
     "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input "
     "'{\"Error\":\"e\",\"n\":1.0,\"s\":\"é\"}'"),
    ("$.a.b", "x", {"a": "text"},
     "The JSONPath '$.a.b' specified for the field 'x' could not be found in the input "
     "'{\"a\":\"text\"}'"),
    ("$.a[5]", "x", {"a": []},
     "The JSONPath '$.a[5]' specified for the field 'x' could not be found in the input "
     "'{\"a\":[]}'"),
])
def test_select_missing(path: str, field: str, data: dict, cause: str) -> None:
    with pytest.raises(StatesError) as raised:
        paths.select(path, data, CONTEXT, field=field)
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == cause


def test_lookup() -> None:
    assert paths.lookup("$.a", {"a": None}, {}) == (True, None)
    assert paths.lookup("$.b", {"a": None}, {}) == (False, None)
    assert paths.lookup("$.a[*]", {"a": []}, {}) == (True, [])


# --- InputPath / OutputPath -----------------------------------------------------------------


def test_input_path() -> None:
    data = {"a": {"b": [1, 2]}}
    assert paths.apply_input_path("$", data, CONTEXT) == data
    assert paths.apply_input_path("$.a.b", data, CONTEXT) == [1, 2]
    assert paths.apply_input_path("$.a.b[*]", data, CONTEXT) == [1, 2]
    assert paths.apply_input_path(None, data, CONTEXT) == {}
    assert paths.apply_input_path("$$.Execution.Input", data, CONTEXT) == {"input-value": 0}
    assert paths.apply_output_path(None, data, CONTEXT) == {}
    assert paths.apply_output_path("$.a", data, CONTEXT) == {"b": [1, 2]}


def test_input_path_copies() -> None:
    data = {"a": {"b": 1}}
    out = paths.apply_input_path("$.a", data, CONTEXT)
    out["b"] = 2
    assert data == {"a": {"b": 1}}


@pytest.mark.parametrize("path, data, cause", [
    ("$.NoSuchInputPath", {"int-literal": 0},
     "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"),
    ("$.no.such.result.path", {},
     "Invalid path '$.no.such.result.path' : Missing property in path $['no']"),
    ("$$.Execution.Nope", {}, "Invalid path '$$.Execution.Nope' : No results for path: "
                              "$['Execution']['Nope']"),
])
def test_input_and_output_path_errors(path: str, data: dict, cause: str) -> None:
    for apply in (paths.apply_input_path, paths.apply_output_path):
        with pytest.raises(StatesError) as raised:
            apply(path, data, CONTEXT)
        assert (raised.value.error, raised.value.cause) == ("States.Runtime", cause)


# --- ResultPath -----------------------------------------------------------------------------


def test_result_path() -> None:
    state_input = {"a": 1, "nested": {"x": 1}}
    assert paths.apply_result_path("$", state_input, {"r": 1}) == {"r": 1}
    assert paths.apply_result_path(None, state_input, {"r": 1}) == state_input
    assert paths.apply_result_path("$.result", state_input, "R") == {**state_input, "result": "R"}
    assert paths.apply_result_path("$.nested.y", state_input, 2) == {"a": 1, "nested": {"x": 1, "y": 2}}
    assert paths.apply_result_path("$.a", state_input, [1]) == {"a": [1], "nested": {"x": 1}}
    assert paths.apply_result_path("$.new.deep.key", {}, 0) == {"new": {"deep": {"key": 0}}}
    assert paths.apply_result_path("$['odd key']", {}, 0) == {"odd key": 0}
    assert paths.apply_result_path("$.list[1]", {"list": [0, 0]}, 5) == {"list": [0, 5]}
    assert paths.apply_result_path("$", "scalar", None) is None


def test_result_path_does_not_touch_its_arguments() -> None:
    state_input = {"a": {"b": 1}}
    result = {"r": [1]}
    out = paths.apply_result_path("$.a.c", state_input, result)
    out["a"]["b"] = 99
    out["a"]["c"]["r"].append(2)
    assert state_input == {"a": {"b": 1}}
    assert result == {"r": [1]}


@pytest.mark.parametrize("path, state_input", [
    ("$.x", "hello"),
    ("$.x", [1, 2]),
    ("$.a.b", {"a": 3}),
    ("$.a.b", {"a": None}),
    ("$.list[5]", {"list": [0]}),
    ("$.list[0]", {"list": {}}),
])
def test_result_path_match_failure(path: str, state_input) -> None:
    with pytest.raises(StatesError) as raised:
        paths.apply_result_path(path, state_input, 1)
    assert raised.value.error == "States.ResultPathMatchFailure"
    assert raised.value.cause.startswith("Unable to apply step ")


# --- validation -----------------------------------------------------------------------------


def test_is_valid_path() -> None:
    for good in ("$", "$$", "$.a", "$$.Execution.Input", "$.a[0].b", "$..x", "$.a[?(@.b > 1)]"):
        assert paths.is_valid_path(good), good
    for bad in ("", "a", "$.", "a.$", None, 3, "$.a[", "States.Format('x')"):
        assert not paths.is_valid_path(bad), bad


def test_check_path() -> None:
    paths.check_path("$.a[*]", "InputPath")
    paths.check_path("$$.Execution.Input", "OutputPath")
    paths.check_path("$.a.b", "ResultPath")
    with pytest.raises(ValueError, match="InputPath"):
        paths.check_path("a.b", "InputPath")
    with pytest.raises(ValueError, match="ItemsPath"):
        paths.check_path(5, "ItemsPath")
    with pytest.raises(ValueError, match="context object"):
        paths.check_path("$$.Execution", "ResultPath")
    with pytest.raises(ValueError, match="reference path"):
        paths.check_path("$.a[*]", "ResultPath")
    with pytest.raises(ValueError, match="reference path"):
        paths.check_reference_path("$..a")
