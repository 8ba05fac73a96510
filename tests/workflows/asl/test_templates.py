"""Payload templates: `.$` keys, nesting, literal copies, load-time checks."""

from __future__ import annotations

import re

import pytest

from baton.workflows.asl import templates
from baton.workflows.asl.errors import StatesError

CONTEXT = {"Execution": {"Input": {"x": 1}}, "Map": {"Item": {"Index": 3, "Value": "v"}}}


def test_render_paths_intrinsics_and_literals() -> None:
    template = {
        "literal": "$.not.a.path",
        "dollar$": "$.also.literal",
        "Comment": "ordinary key",
        "path.$": "$.a",
        "whole.$": "$",
        "ctx.$": "$$.Map.Item.Index",
        "fmt.$": "States.Format('{}-{}', $.a, $$.Map.Item.Value)",
        "nested": {"deep.$": "$.b[1]", "list": [{"in.$": "$.a"}, "plain", 1, None]},
        "num": 1.5,
    }
    data = {"a": "A", "b": [0, 1]}
    assert templates.render(template, data, CONTEXT) == {
        "literal": "$.not.a.path",
        "dollar$": "$.also.literal",
        "Comment": "ordinary key",
        "path": "A",
        "whole": data,
        "ctx": 3,
        "fmt": "A-v",
        "nested": {"deep": 1, "list": [{"in": "A"}, "plain", 1, None]},
        "num": 1.5,
    }


def test_render_scalars_and_arrays() -> None:
    assert templates.render("text", {}, {}) == "text"
    assert templates.render([{"a.$": "$.x"}], {"x": 1}, {}) == [{"a": 1}]


def test_render_does_not_alias_input() -> None:
    data = {"a": {"b": [1]}}
    out = templates.render({"copy.$": "$.a"}, data, {})
    out["copy"]["b"].append(2)
    assert data == {"a": {"b": [1]}}


def test_missing_path_names_the_key() -> None:
    with pytest.raises(StatesError) as raised:
        templates.render({"outer": {"value.$": "$.no_such_jsonpath"}}, {"int-literal": 0}, {})
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == ("The JSONPath '$.no_such_jsonpath' specified for the field "
                                  "'value.$' could not be found in the input '{\"int-literal\":0}'")


def test_missing_path_inside_an_intrinsic_names_the_key() -> None:
    with pytest.raises(StatesError) as raised:
        templates.render({"h.$": "States.Hash($.missing, 'SHA-256')"}, {}, {})
    assert raised.value.cause == ("The JSONPath '$.missing' specified for the field 'h.$' could "
                                  "not be found in the input '{}'")


def test_evaluate_expression() -> None:
    data = {"Error": "E", "Cause": "C"}
    assert templates.evaluate_expression("$.Error", data, {}, field="ErrorPath") == "E"
    assert templates.evaluate_expression("States.Format('{}:{}', $.Error, $.Cause)", data, {},
                                         field="CausePath") == "E:C"
    with pytest.raises(StatesError):
        templates.evaluate_expression("not a path", data, {}, field="ErrorPath")


def test_check_template_accepts_good_templates() -> None:
    templates.check_template({
        "a.$": "$.x", "b.$": "$$.Execution.Input", "c.$": "States.Array($.x, 1)",
        "d": {"e.$": "$.y[*]"}, "f": [{"g.$": "$"}], "h": "$.literal", "i$": 1,
    }, "Parameters")
    templates.check_template("just a string", "Parameters")


@pytest.mark.parametrize("template, message", [
    ({"a.$": 1}, "a.$"),
    ({"a.$": "x"}, "a.$"),
    ({"a.$": "$."}, "a.$"),
    ({"a.$": "States.Nope()"}, "unknown intrinsic"),
    ({"a.$": "States.MathAdd('a', 1)"}, "must be a number"),
    ({"x": [{"deep.$": "$["}]}, r"Parameters\.x\[0\]\.deep\.\$"),
    ({"a": 1, "a.$": "$.a"}, "both"),
])
def test_check_template_rejects(template: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message) if message.endswith(".$") else message):
        templates.check_template(template, "Parameters")
