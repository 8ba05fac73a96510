"""The Jayway JSONPath dialect: syntax, definiteness, results, strict-mode messages."""

from __future__ import annotations

import pytest

from baton.workflows.asl.jsonpath import JsonPathSyntaxError, PathNotFound, evaluate, parse

DOC = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
            {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick",
             "isbn": "0-553-21311-3", "price": 8.99},
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "expensive": 10,
}


@pytest.mark.parametrize("text, definite", [
    ("$", True),
    ("$.a", True),
    ("$.a.b[0]", True),
    ("$['a']['b']", True),
    ("$.a[-1]", True),
    ("$.a[*]", False),
    ("$.a.*", False),
    ("$..a", False),
    ("$.a[0,1]", False),
    ("$.a[1:]", False),
    ("$.a[:2]", False),
    ("$.a[?(@.b == 1)]", False),
    ("$['a','b']", True),  # several keys at the end merge into one object
    ("$['a','b'].c", False),
    ("$$.Execution.Input", True),
])
def test_definiteness(text: str, definite: bool) -> None:
    assert parse(text).definite is definite


@pytest.mark.parametrize("text", [
    "", "a", "$.", "$..", "$[", "$[]", "$['a'", "$.a[x]", "$.a[1:2:3]", "$.a.length()",
    "$.a b", "$[?(@.a == )]", "$[?(@.a", "$a", "$.a[?(@.b =~ /x)]", "$.[0]",
])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(JsonPathSyntaxError):
        parse(text)


def test_context_paths() -> None:
    path = parse("$$.Execution.Input")
    assert path.context
    assert path.jayway() == "$['Execution']['Input']"
    assert evaluate(path, {"Execution": {"Input": 1}}, strict=True) == [1]


def test_jayway_rendering() -> None:
    assert parse("$.a['b c'][0][1:2][*]").jayway() == "$['a']['b c'][0][1:2][*]"
    assert parse("$.a[?(@.x)]").jayway() == "$['a'][?]"
    assert parse("$..a").jayway() == "$..['a']"


@pytest.mark.parametrize("text, expected", [
    ("$.store.bicycle.color", ["red"]),
    ("$.store.book[*].author", ["Nigel Rees", "Evelyn Waugh", "Herman Melville"]),
    ("$..author", ["Nigel Rees", "Evelyn Waugh", "Herman Melville"]),
    ("$.store.book[2].title", ["Moby Dick"]),
    ("$.store.book[-1].title", ["Moby Dick"]),
    ("$.store.book[0,1].title", ["Sayings", "Sword"]),
    ("$.store.book[:2].title", ["Sayings", "Sword"]),
    ("$.store.book[1:].title", ["Sword", "Moby Dick"]),
    ("$.store.book[-2:].title", ["Sword", "Moby Dick"]),
    ("$.store.book[?(@.isbn)].title", ["Moby Dick"]),
    ("$.store.book[?(!@.isbn)].title", ["Sayings", "Sword"]),
    ("$.store.book[?(@.price < 10)].title", ["Sayings", "Moby Dick"]),
    ("$.store.book[?(@.price < $.expensive)].title", ["Sayings", "Moby Dick"]),
    ("$.store.book[?(@.category == 'fiction' && @.price > 10)].title", ["Sword"]),
    ("$.store.book[?(@.category == 'reference' || @.price > 12)].title", ["Sayings", "Sword"]),
    ("$.store.book[?(@.author =~ /.*rees/i)].title", ["Sayings"]),
    ("$.store.book[?(@.category in ['reference', 'x'])].title", ["Sayings"]),
    ("$.store.book[?(@.category nin ['reference'])].title", ["Sword", "Moby Dick"]),
    ("$.store.book[?(@.price != 8.95)].title", ["Sword", "Moby Dick"]),
    ("$.store.bicycle[?(@.color == 'red')].price", [19.95]),
    ("$.store.*.price", [19.95]),
    ("$['store']['bicycle']['color']", ["red"]),
    ('$["store"]["bicycle"]["color"]', ["red"]),
    ("$.store.bicycle['color','price']", [{"color": "red", "price": 19.95}]),
    ("$.store.bicycle['color','nope']", [{"color": "red"}]),
    ("$.store.book[9]", []),
    ("$.nope[*]", []),
    ("$..price", [8.95, 12.99, 8.99, 19.95]),
])
def test_lenient_results(text: str, expected: list) -> None:
    assert evaluate(text, DOC, strict=False) == expected


def test_quoted_keys_are_taken_verbatim() -> None:
    # Recorded case 020: the backslash stays part of the key.
    key = 'Test\\""Name"'
    assert evaluate("$['Test\\\"\"Name\"']", {key: 1}, strict=True) == [1]
    assert parse("$['a\\'b']").tokens[0].names == ("a\\'b",)


def test_filter_on_object_tests_the_object_itself() -> None:
    assert evaluate("$[?(@.a == 1)]", {"a": 1}, strict=False) == [{"a": 1}]
    assert evaluate("$[?(@.a == 2)]", {"a": 1}, strict=False) == []


def test_filter_types_do_not_mix() -> None:
    doc = [{"v": 1}, {"v": "1"}, {"v": True}, {"v": 1.0}, {}]
    assert evaluate("$[?(@.v == 1)]", doc, strict=False) == [{"v": 1}, {"v": 1.0}]
    assert evaluate("$[?(@.v == true)]", doc, strict=False) == [{"v": True}]
    assert evaluate("$[?(@.v > 0)]", doc, strict=False) == [{"v": 1}, {"v": 1.0}]
    assert evaluate("$[?(@.v != 1)]", doc, strict=False) == [{"v": "1"}, {"v": True}, {}]


@pytest.mark.parametrize("text, doc, message", [
    ("$.a", {}, "No results for path: $['a']"),
    ("$.a.b", {"a": {}}, "No results for path: $['a']['b']"),
    ("$.no.such.result.path", {}, "Missing property in path $['no']"),
    ("$.a.b.c", {"a": {}}, "Missing property in path $['a']['b']"),
    ("$.a[3]", {"a": [1]}, "No results for path: $['a'][3]"),
    ("$.a.b", {"a": "x"},
     "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. "
     "This is not a json object according to the JsonProvider: "
     "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."),
    ("$.a[0]", {"a": None}, "The path $['a'] is null"),
    ("$.a[0]", {"a": {"k": 1}}, "Filter: [0] can only be applied to arrays. Current context is: {k=1}"),
])
def test_strict_messages(text: str, doc: dict, message: str) -> None:
    with pytest.raises(PathNotFound) as raised:
        evaluate(text, doc, strict=True)
    assert str(raised.value) == message
    assert evaluate(text, doc, strict=False) == []


def test_strict_tolerates_missing_keys_after_indefinite_steps() -> None:
    doc = {"items": [{"a": 1}, {"b": 2}]}
    assert evaluate("$.items[*].a", doc, strict=True) == [1]
    assert evaluate("$.items[*].x.y", doc, strict=True) == []
    assert evaluate("$..x", doc, strict=True) == []


def test_null_values_are_found() -> None:
    assert evaluate("$.a", {"a": None}, strict=True) == [None]
