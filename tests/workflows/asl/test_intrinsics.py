"""Intrinsic functions: parsing, load-time checks, every function, runtime failures.

Expected values marked *observed* come from third-party runs against AWS (not recorded here);
the rest come from the recorded matrix or the AWS documentation.
"""

from __future__ import annotations

import re

import pytest

from baton.workflows.asl import intrinsics
from baton.workflows.asl.errors import StatesError
from baton.workflows.asl.intrinsics import IntrinsicSyntaxError, check, evaluate, is_intrinsic, parse


def ev(expression: str, data=None, context=None):
    return evaluate(expression, {} if data is None else data, {} if context is None else context,
                    field="value.$")


def fails(expression: str, data=None) -> str:
    with pytest.raises(StatesError) as raised:
        ev(expression, data)
    assert raised.value.error == "States.Runtime"
    return raised.value.cause


# --- syntax ---------------------------------------------------------------------------------


def test_is_intrinsic() -> None:
    assert is_intrinsic("States.Format('x')")
    assert is_intrinsic("  States.UUID()")
    assert not is_intrinsic("$.a")
    assert not is_intrinsic("Format('x')")
    assert not is_intrinsic(None)


def test_parse_arguments() -> None:
    call = parse("States.Array('a\\'b\\{\\}\\\\', -1, 2.5, 1e3, true, false, null, $.p[0], "
                 "$$.Execution.Input, States.Array(), $[?(@.a == 'x, y')])")
    values = [getattr(a, "value", getattr(a, "path", None)) for a in call.args]
    assert values[:7] == ["a'b{}\\", -1, 2.5, 1000.0, True, False, None]
    assert values[7:9] == ["$.p[0]", "$$.Execution.Input"]
    assert isinstance(call.args[9], intrinsics.Call)
    assert values[10] == "$[?(@.a == 'x, y')]"


def test_whitespace_is_allowed_between_tokens() -> None:
    assert ev("States.Array( $.a ,  $.b )", {"a": 1, "b": 2}) == [1, 2]
    assert ev("States.Array(\n1,\t2)") == [1, 2]


@pytest.mark.parametrize("text", [
    "States.Array(", "States.Array(1,)", "States.Array(,1)", "States.Array(1) trailing",
    "States.Array('unterminated)", "States.Array('bad \\n escape')", "States.Array(1.)",
    "States.Array(.5)", "States.Array(undefined)", "States.Array([1,2])", "States.(1)",
    "Format('x')", "States.Array($.)", "States.Array(trueish)",
])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(IntrinsicSyntaxError):
        check(text)
    with pytest.raises(StatesError):
        ev(text)


@pytest.mark.parametrize("text, message", [
    ("States.Nope()", "unknown intrinsic function States.Nope"),
    ("States.UUID(1)", "takes 0 arguments"),
    ("States.ArrayLength()", "takes 1 argument"),
    ("States.MathRandom(1)", "takes 2 to 3 arguments"),
    ("States.Format()", "at least 1"),
    ("States.MathAdd('1', 2)", "argument 1 of States.MathAdd must be a number, not string"),
    ("States.ArrayLength(States.Format('x'))", "must be an array, not string"),
    ("States.StringToJson(1)", "must be a string"),
    ("States.JsonMerge($.a, $.b, true)", "third argument must be false"),
    ("States.Hash('x', 'sha-256')", "algorithm must be one of"),
    ("States.Format('{} {}', $.a)", "one argument per {}"),
    ("States.Format('{', $.a)", "lone braces"),
    ("States.Array(States.Nope())", "unknown intrinsic"),
])
def test_check_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check(text)


def test_check_accepts() -> None:
    for text in ("States.Format('Hello \\{\\} {}', $.name)", "States.UUID()", "States.Array()",
                 "States.MathRandom($.a, $.b, 42)", "States.JsonMerge($.a, $.b, false)",
                 "States.StringToJson('{\"a\": 1}')", "States.Hash($.x, $.algorithm)",
                 "States.ArrayGetItem(States.Array(1, 2), 0)"):
        check(text)


# --- the functions --------------------------------------------------------------------------


def test_format() -> None:
    assert ev("States.Format('Formatting argument {}.', $.x)", {"x": None}) == "Formatting argument null."
    assert ev("States.Format('{}|{}|{}|{}', $.a, $.b, $.c, $.d)",
              {"a": 1.1, "b": True, "c": {"Arg1": 1, "Arg2": []}, "d": [1, "x", 2.0]}) == \
        "1.1|true|{Arg1=1, Arg2=[]}|[1, x, 2.0]"
    assert ev("States.Format('no placeholders')") == "no placeholders"
    assert ev("States.Format('Name: \\'{}\\'', $.n)", {"n": "G"}) == "Name: 'G'"  # observed
    assert ev("States.Format('\\{{}\\}', $.n)", {"n": 1}) == "{1}"
    assert ev("States.Format($.t, $.n)", {"t": "Hello {}", "n": "Ada"}) == "Hello Ada"  # observed
    assert ev("States.Format('{}', 1e20)") == "1.0E20"
    for bad in ("States.Format('{} {}', $.a)", "States.Format('{}', $.a, $.a)",
                "States.Format('Hello {', $.a)", "States.Format('}')",
                "States.Format('Hello {{}}', $.a)", "States.Format($.n, $.a)"):
        assert fails(bad, {"a": "x", "n": 1}) == "Invalid arguments in States.Format"


def test_string_to_json() -> None:
    assert ev("States.StringToJson($.s)", {"s": '{"Arg1": 1, "Arg2": []}'}) == {"Arg1": 1, "Arg2": []}
    assert ev("States.StringToJson($.s)", {"s": ""}) is None
    assert ev("States.StringToJson($.s)", {"s": " "}) is None
    assert ev("States.StringToJson($.s)", {"s": "-0"}) == 0
    assert ev("States.StringToJson($.s)", {"s": '"HelloWorld"'}) == "HelloWorld"
    assert ev("States.StringToJson($.s)", {"s": ' {"a":1} '}) == {"a": 1}
    assert ev("States.StringToJson('{\"constant_in_literal\": \"false\"}')") == \
        {"constant_in_literal": "false"}
    for bad in ("{bad json}", '{"a":1', "undefined", "NaN", "123abc"):
        assert fails("States.StringToJson($.s)", {"s": bad}) == "Invalid arguments in States.StringToJson"
    assert fails("States.StringToJson($.s)", {"s": 123})


def test_json_to_string() -> None:
    assert ev("States.JsonToString($.v)", {"v": {"Arg1": 1, "Arg2": []}}) == '{"Arg1":1,"Arg2":[]}'
    assert ev("States.JsonToString($.v)", {"v": "HelloWorld"}) == '"HelloWorld"'
    assert ev("States.JsonToString($.v)", {"v": None}) == "null"
    assert ev("States.JsonToString($.v)", {"v": 1.1}) == "1.1"
    assert ev("States.JsonToString($.v)", {"v": [1, 2, "HelloWorld"]}) == '[1,2,"HelloWorld"]'


def test_array() -> None:
    assert ev("States.Array()") == []
    assert ev("States.Array(42, true, null, 'hello', States.Array(2, 3))") == \
        [42, True, None, "hello", [2, 3]]


def test_array_partition() -> None:
    assert ev("States.ArrayPartition($.a, 3)", {"a": [0, 1, 2, 3]}) == [[0, 1, 2], [3]]
    assert ev("States.ArrayPartition($.a, 5)", {"a": []}) == []
    assert ev("States.ArrayPartition($.a, 2.6)", {"a": [1, 2, 3, 4, 5]}) == [[1, 2], [3, 4], [5]]  # observed
    for size in ("0", "-1", "0.6", "-0.4", "'2'", "null"):
        assert fails(f"States.ArrayPartition($.a, {size})", {"a": [1]}) == \
            "Invalid arguments in States.ArrayPartition"
    assert fails("States.ArrayPartition('x', 2)")


def test_array_contains() -> None:
    data = {"a": [[1, 2, 3], 2], "b": [{"1": 2, "2": []}], "c": [True, False]}
    assert ev("States.ArrayContains($.a, $.v)", {**data, "v": [1, 2, 3]}) is True
    assert ev("States.ArrayContains($.a, null)", data) is False
    assert ev("States.ArrayContains($.b, $.v)", {**data, "v": {"1": 2, "2": []}}) is True
    assert ev("States.ArrayContains($.b, $.v)", {**data, "v": []}) is False
    assert ev("States.ArrayContains($.c, false)", data) is True
    assert ev("States.ArrayContains(States.Array(1, null), null)") is True
    # observed on AWS: comparisons go through String.valueOf
    assert ev("States.ArrayContains($.s, true)", {"s": ["true", "x"]}) is True
    assert ev("States.ArrayContains($.s, $.n)", {"s": ["9007199254740991"], "n": 9007199254740991}) is True
    assert ev("States.ArrayContains($.s, $.t)", {"s": [{"a": 1, "b": 2}], "t": {"b": 2, "a": 1}}) is False
    assert ev("States.ArrayContains($.s, false)", {"s": [0, 1, -1, -1.5]}) is False
    assert fails("States.ArrayContains('x', 'x')") == "Invalid arguments in States.ArrayContains"


def test_array_range() -> None:
    assert ev("States.ArrayRange(0, 9, 3)") == [0, 3, 6, 9]
    assert ev("States.ArrayRange(0, 10, 3)") == [0, 3, 6, 9]
    assert ev("States.ArrayRange(1, 9, 9)") == [1]
    assert ev("States.ArrayRange(5, 1, -2)") == [5, 3, 1]
    assert ev("States.ArrayRange(5, 1, 1)") == []
    assert ev("States.ArrayRange(1.6, 1.4, 1)") == [1]  # observed: truncation
    assert len(ev("States.ArrayRange(1, 1000, 1)")) == 1000
    for bad in ("States.ArrayRange(1, 1001, 1)", "States.ArrayRange(1, 10, 0)",
                "States.ArrayRange(1, 10, 0.49)", "States.ArrayRange('a', 5, 1)"):
        assert fails(bad) == "Invalid arguments in States.ArrayRange"


def test_array_get_item() -> None:
    data = {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}
    assert ev("States.ArrayGetItem($.a, 5)", data) == 6
    assert ev("States.ArrayGetItem($.a, 1.2)", data) == 2  # observed: truncation
    assert ev("States.ArrayGetItem($.e, 999)", {"e": []}) is None  # observed
    for bad in ("States.ArrayGetItem($.a, 9)", "States.ArrayGetItem($.a, -1)",
                "States.ArrayGetItem($.a, '1')", "States.ArrayGetItem('x', 0)"):
        assert fails(bad, data) == "Invalid arguments in States.ArrayGetItem"


def test_array_length_and_unique() -> None:
    assert ev("States.ArrayLength($.a)", {"a": [None, {}, [], 1]}) == 4
    assert fails("States.ArrayLength($.a)", {"a": {"k": 1}}) == "Invalid arguments in States.ArrayLength"
    # observed on AWS: java.util.HashSet order
    assert ev("States.ArrayUnique($.a)", {"a": [1, 2, 3, 3, 3, 4]}) == [1, 2, 3, 4]
    assert ev("States.ArrayUnique($.a)", {"a": ["a", "b", "a", "c", "b"]}) == ["a", "b", "c"]
    assert ev("States.ArrayUnique($.a)", {"a": [True, False, True, False]}) == [False, True]
    assert ev("States.ArrayUnique($.a)", {"a": [None, None, 1, None]}) == [None, 1]
    assert ev("States.ArrayUnique($.a)", {"a": [[1, 2], [1, 2], [2, 1]]}) == [[2, 1], [1, 2]]
    assert ev("States.ArrayUnique($.a)", {"a": [{"a": 1, "b": 2}, {"b": 2, "a": 1}]}) == [{"a": 1, "b": 2}]
    assert fails("States.ArrayUnique('x')") == "Invalid arguments in States.ArrayUnique"


def test_base64() -> None:
    assert ev("States.Base64Encode($.s)", {"s": "Data to encode"}) == "RGF0YSB0byBlbmNvZGU="
    assert ev("States.Base64Encode('')") == ""
    assert ev("States.Base64Encode('🚀')") == "8J+agA=="
    assert ev("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}) == "Data to encode"
    assert ev("States.Base64Decode('44GT44KT44Gr44Gh44Gv')") == "こんにちは"
    # observed on AWS: a lenient decoder
    assert ev("States.Base64Decode('abc')") == "i\ufffd"  # bytes 69 b7; b7 alone is not UTF-8
    assert ev("States.Base64Decode(' YWJjZA== ')") == "abcd"
    assert ev("States.Base64Decode('ab==cd')") == "i"
    assert ev("States.Base64Decode('!!!invalid!!!')") == ev("States.Base64Decode('invalid')")
    assert ev("States.Base64Encode($.s)", {"s": "a" * 10000})
    for bad in ("States.Base64Encode($.s)", "States.Base64Decode($.s)"):
        assert fails(bad, {"s": "a" * 10001}).startswith("Invalid arguments in States.Base64")
        assert fails(bad, {"s": 123}).startswith("Invalid arguments in States.Base64")


def test_hash() -> None:
    for algorithm, digest in (
            ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
            ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
            ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ):
        assert ev("States.Hash($.d, $.a)", {"d": "input data", "a": algorithm}) == digest
    assert ev("States.Hash('hello', 'MD5')") == "5d41402abc4b2a76b9719d911017c592"
    assert ev("States.Hash(123, 'MD5')") == ev("States.Hash('123', 'MD5')")  # observed: accepted
    for bad in ("States.Hash('x', $.a)",):
        for algorithm in ("sha-256", "SHA256", "", "MD-5", 123):
            assert fails(bad, {"a": algorithm}) == "Invalid arguments in States.Hash"
    assert fails("States.Hash($.s, 'MD5')", {"s": "a" * 10001}) == "Invalid arguments in States.Hash"


def test_json_merge() -> None:
    data = {"a": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}, "b": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}}
    assert ev("States.JsonMerge($.a, $.b, false)", data) == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4}
    assert ev("States.JsonMerge($.a, $.b, $.f)", {**data, "f": "false"})  # observed: accepted
    assert fails("States.JsonMerge($.a, $.b, $.t)", {**data, "t": True}) == \
        "Invalid arguments in States.JsonMerge"
    assert fails("States.JsonMerge($.a, $.n, false)", {**data, "n": None})


def test_math_add() -> None:
    cases = {(-9, 3): -6, (1.49, 1.5): 3, (1.5, 1.51): 4, (-1.49, -1.5): -2, (-1.5, -1.51): -3,
             (1.49, -1.49): 0, (0.5, 0): 1, (-0.5, 0.5): 1, (-0.5, 0): 0, (-2.5, 0): -2,
             (2.5, 0): 3, (2147483646, 1): 2147483647, (-2147483647, -1): -2147483648}
    for (a, b), total in cases.items():
        assert ev("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == total, (a, b)
    for a, b in ((2147483647, 1), (-2147483648, -1), (3000000000, 1), ("1", 2), (None, 1), (True, 1)):
        assert fails("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == "Invalid arguments in States.MathAdd"


def test_math_random() -> None:
    for _ in range(50):
        value = ev("States.MathRandom(1.6, 5.4)")
        assert isinstance(value, int) and 1 <= value < 5
    assert ev("States.MathRandom(-5, 5, 42)") == -5  # observed on AWS
    first = ev("States.MathRandom(1, 1000, 7)")
    assert first == ev("States.MathRandom(1, 1000, 7)")
    for bad in ("States.MathRandom(1, 1)", "States.MathRandom(10, 5)", "States.MathRandom(1.4, 1.6)",
                "States.MathRandom('a', 10)", "States.MathRandom(1, 10, 'seed')",
                "States.MathRandom(1, 10, null)", "States.MathRandom(-2147483648, 2147483647)"):
        assert fails(bad) == "Invalid arguments in States.MathRandom"


def test_string_split() -> None:
    split = "States.StringSplit($.s, $.d)"
    assert ev(split, {"s": "This.is+a,test=string", "d": ".+,="}) == ["This", "is", "a", "test", "string"]
    assert ev(split, {"s": ", , ,", "d": ","}) == [" ", " "]
    assert ev(split, {"s": ",,,,", "d": ","}) == []
    assert ev(split, {"s": "", "d": ","}) == []
    assert ev(split, {"s": "abc", "d": ""}) == ["abc"]
    assert ev(split, {"s": "1a2b3ab4", "d": "ab"}) == ["1", "2", "3", "4"]
    assert ev("States.StringSplit('Hello\nWorld', '\n')") == ["Hello", "World"]
    for s, d in ((123, ","), ("a,b", 1), (None, ","), ("a", None), ("a,b", [","])):
        assert fails(split, {"s": s, "d": d}) == "Invalid arguments in States.StringSplit"


def test_uuid() -> None:
    value = ev("States.UUID()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value)
    assert value != ev("States.UUID()")


# --- runtime failures -----------------------------------------------------------------------


def test_missing_path_argument() -> None:
    with pytest.raises(StatesError) as raised:
        evaluate("States.Base64Encode($.missing)", {}, {}, field="value.$")
    assert raised.value.cause == ("The JSONPath '$.missing' specified for the field 'value.$' "
                                  "could not be found in the input '{}'")
    with pytest.raises(StatesError) as raised:
        evaluate("States.Base64Encode($.missing)", {"a": 1}, {})
    assert raised.value.cause == "The JSONPath '$.missing' could not be found in the input '{\"a\":1}'"


def test_runtime_arity_failures() -> None:
    assert fails("States.ArrayLength()") == "Invalid arguments in States.ArrayLength"
    assert fails("States.Hash('hello')") == "Invalid arguments in States.Hash"
    assert fails("States.Nope()").startswith("Unknown intrinsic function")


def test_context_arguments() -> None:
    context = {"Execution": {"Input": {"FunctionInput": "a,b"}}}
    assert evaluate("States.StringSplit($$.Execution.Input.FunctionInput, ',')", {}, context) == ["a", "b"]


def test_evaluate_does_not_alias_input() -> None:
    data = {"a": {"k": [1]}}
    result = ev("States.Array($.a)", data)
    result[0]["k"].append(2)  # the engine may mutate what it gets back
    merged = ev("States.JsonMerge($.a, $.a, false)", data)
    merged["k"].append(3)
    assert data == {"a": {"k": [1]}}
