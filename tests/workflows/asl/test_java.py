"""The JVM behaviours the language layer reproduces."""

from __future__ import annotations

import pytest

from baton.workflows.asl._java import (
    JavaRandom,
    hash_set_order,
    java_class_name,
    java_double_str,
    java_hash,
    java_str,
    to_json,
)


@pytest.mark.parametrize("value, text", [
    (1.0, "1.0"), (1.1, "1.1"), (0.001, "0.001"), (0.0001, "1.0E-4"), (1e7, "1.0E7"),
    (9999999.0, "9999999.0"), (1e20, "1.0E20"), (-1.5e-10, "-1.5E-10"), (123456.789, "123456.789"),
    (-0.0, "-0.0"), (0.0, "0.0"), (1.7976931348623157e308, "1.7976931348623157E308"),
    (100.0, "100.0"), (12345678.9, "1.23456789E7"),
])
def test_double_to_string(value: float, text: str) -> None:
    assert java_double_str(value) == text


def test_java_str() -> None:
    assert java_str({"Arg1": 1, "Arg2": []}) == "{Arg1=1, Arg2=[]}"
    assert java_str([None, True, 2.0, "s", {"k": [1]}]) == "[null, true, 2.0, s, {k=[1]}]"


def test_to_json() -> None:
    assert to_json({"a": [1, 2.0, "é\n\""], "b": None, "c": True}) == \
        '{"a":[1,2.0,"é\\n\\""],"b":null,"c":true}'


def test_hash_codes() -> None:
    assert java_hash("a") == 97
    assert java_hash("hello") == 99162322
    assert java_hash([1, 2]) == 994
    assert java_hash(True) == 1231 and java_hash(None) == 0
    assert java_hash(2**40) == 256  # Long.hashCode: (int) (v ^ (v >>> 32))
    assert java_hash(-1) == -1
    assert java_hash(1.0) == 1072693248
    assert java_hash({"a": 1}) == 97 ^ 1


def test_hash_set_order() -> None:
    assert hash_set_order([True, False, True]) == [False, True]
    assert hash_set_order([None, 1, None]) == [None, 1]
    assert hash_set_order([1, 1.0]) == [1, 1.0]  # Integer and Double are not equal in Java
    assert hash_set_order(list(range(40, 0, -1))) == list(range(1, 41))


def test_java_random_matches_the_jdk() -> None:
    # new Random(0).nextInt(100) == 60 and new Random(42).nextInt(10) == 0 on any JDK
    assert JavaRandom(0).next_int(100) == 60
    assert JavaRandom(42).next_int(10) == 0
    assert JavaRandom(1).next_int(16) == JavaRandom(1).next_int(16)


def test_class_names() -> None:
    assert java_class_name("x") == "java.lang.String"
    assert java_class_name(1) == "java.lang.Integer"
    assert java_class_name(2**40) == "java.lang.Long"
    assert java_class_name(1.5) == "java.lang.Double"
    assert java_class_name([]) == "java.util.ArrayList"
    assert java_class_name(None) == "null"
