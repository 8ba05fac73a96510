"""The JSONPath dialect of Step Functions: Jayway JsonPath, reimplemented for Python values.

Step Functions evaluates paths with Jayway JsonPath (Java). The observable consequences, all
reproduced here:

* A path is *definite* (no wildcard, filter, slice, deep scan, index list) or *indefinite*.
  A definite path yields one value (`$.items[0]` is the element itself, not a list); an
  indefinite path yields a list, possibly empty (`$[*]` on `{}` is `[]`, recorded cases 010/011).
* Quoted bracket keys are taken verbatim between the quotes: `$['a\\"b']` names the key
  `a\\"b` with the backslash (recorded case 020); a backslash only stops the next character from
  closing the key.
* Strict evaluation (InputPath, OutputPath) reports Jayway's messages: `No results for path:
  $['x']` when a definite path ends on a missing key, `Missing property in path $['no']` when a
  key is missing on the way, `Expected to find an object with property ['b'] in path $['a'] but
  found 'java.lang.String'. ...` when the way goes through a non-object.
* Lenient evaluation (Parameters and friends) skips all of those and returns what it found.

Supported syntax: `$`, `.key`, `['key']`, `['a','b']`, `[0]`, `[-1]`, `[0,2]`, `[1:3]`, `[:2]`,
`[1:]`, `*` / `[*]`, `..key` / `..*` / `..[...]`, and filters `[?(...)]` with `@`/`$` paths,
`== != < <= > >= =~ in nin`, `&& || !`, parentheses, and literals (numbers, 'strings',
"strings", true, false, null, /regex/flags, [lists]).

The module stays whole because paths and filters are one recursive language: the path parser
parses filters, filters hold `@`/`$` paths, path evaluation tests filters and filter evaluation
evaluates paths. Split along paths/filters it would be two modules importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ._java import java_class_name, java_str

__all__ = [
    "JsonPathSyntaxError",
    "Path",
    "PathNotFound",
    "evaluate",
    "parse",
]

_PROVIDER = "com.jayway.jsonpath.spi.json.JacksonJsonProvider"


class JsonPathSyntaxError(ValueError):
    """The text is not a JSONPath Step Functions accepts."""


class PathNotFound(Exception):
    """Strict evaluation found no value; the message is Jayway's."""


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    names: tuple[str, ...]

    def fragment(self) -> str:
        return "[" + ",".join(f"'{name}'" for name in self.names) + "]"


@dataclass(frozen=True)
class Index:
    indexes: tuple[int, ...]

    def fragment(self) -> str:
        return "[" + ",".join(str(i) for i in self.indexes) + "]"


@dataclass(frozen=True)
class Slice:
    start: int | None
    end: int | None

    def fragment(self) -> str:
        start = "" if self.start is None else str(self.start)
        end = "" if self.end is None else str(self.end)
        return f"[{start}:{end}]"


@dataclass(frozen=True)
class Wildcard:
    def fragment(self) -> str:
        return "[*]"


@dataclass(frozen=True)
class Scan:
    def fragment(self) -> str:
        return ".."


@dataclass(frozen=True)
class Filter:
    expression: Any
    text: str

    def fragment(self) -> str:
        return "[?]"


Token = Prop | Index | Slice | Wildcard | Scan | Filter


def _token_definite(token: Token, leaf: bool) -> bool:
    if isinstance(token, Prop):
        return len(token.names) == 1 or leaf  # a multi-key leaf merges into one object
    if isinstance(token, Index):
        return len(token.indexes) == 1
    return False


@dataclass(frozen=True)
class Path:
    """A compiled path. `context` is True for `$$...` paths (read from the context object)."""

    text: str
    context: bool
    tokens: tuple[Token, ...]

    @property
    def definite(self) -> bool:
        last = len(self.tokens) - 1
        return all(_token_definite(t, i == last) for i, t in enumerate(self.tokens))

    @property
    def is_reference(self) -> bool:
        """A Reference Path: only single keys and single indexes (ResultPath's kind)."""
        return all(
            (isinstance(t, Prop) and len(t.names) == 1) or (isinstance(t, Index) and len(t.indexes) == 1)
            for t in self.tokens
        )

    def jayway(self) -> str:
        """Jayway's rendering, e.g. `$['a']['b'][0]`, as it appears in its messages."""
        return "$" + "".join(t.fragment() for t in self.tokens)


# --- parsing --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse(text: str) -> Path:
    """Compile `text` (`$...` or `$$...`); raise JsonPathSyntaxError if it is not a path."""
    if not isinstance(text, str):
        raise JsonPathSyntaxError(f"a path must be a string, not {type(text).__name__}")
    if not text.startswith("$"):
        raise JsonPathSyntaxError(f"'{text}' is not a JSONPath: it must start with '$'")
    context = text.startswith("$$")
    body = text[1:] if context else text
    parser = _PathParser(body, text)
    tokens = parser.parse_root()
    return Path(text=text, context=context, tokens=tuple(tokens))


class _PathParser:
    def __init__(self, source: str, shown: str) -> None:
        self.s = source
        self.shown = shown
        self.i = 0

    def fail(self, why: str) -> JsonPathSyntaxError:
        return JsonPathSyntaxError(f"'{self.shown}' is not a valid JSONPath: {why}")

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.s[j] if j < len(self.s) else ""

    def parse_root(self) -> list[Token]:
        if self.peek() != "$":
            raise self.fail("it must start with '$'")
        self.i = 1
        tokens: list[Token] = []
        while self.i < len(self.s):
            c = self.peek()
            if c == ".":
                if self.peek(1) == ".":
                    self.i += 2
                    tokens.append(Scan())
                    nxt = self.peek()
                    if nxt == "[":
                        tokens.append(self.bracket())
                    elif nxt == "*":
                        self.i += 1
                        tokens.append(Wildcard())
                    elif nxt and nxt not in ". ":
                        tokens.append(Prop((self.dot_name(),)))
                    else:
                        raise self.fail("'..' must be followed by a key, '*' or '['")
                    continue
                self.i += 1
                if self.peek() == "*":
                    self.i += 1
                    tokens.append(Wildcard())
                    continue
                if not self.peek():
                    raise self.fail("it must not end with '.'")
                if self.peek() == "[":
                    raise self.fail("'.' must be followed by a key")
                tokens.append(Prop((self.dot_name(),)))
            elif c == "[":
                tokens.append(self.bracket())
            else:
                raise self.fail(f"unexpected character {c!r} at position {self.i}")
        return tokens

    def dot_name(self) -> str:
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in ".[ ()":
            self.i += 1
        if self.peek() in ("(", ")"):
            raise self.fail("functions like length() are not supported")
        if self.peek() == " ":
            raise self.fail("keys in dot notation cannot contain spaces; use ['key with spaces']")
        name = self.s[start:self.i]
        if not name:
            raise self.fail("empty key")
        return name

    def skip_space(self) -> None:
        while self.peek() == " ":
            self.i += 1

    def bracket(self) -> Token:
        assert self.peek() == "["
        self.i += 1
        self.skip_space()
        c = self.peek()
        if c == "*":
            self.i += 1
            self.skip_space()
            self.expect("]")
            return Wildcard()
        if c == "?":
            return self.filter()
        if c in ("'", '"'):
            return self.quoted_keys()
        return self.indexes()

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(f"expected {char!r} at position {self.i}, found {found}")
        self.i += 1

    def quoted_keys(self) -> Token:
        names: list[str] = []
        while True:
            self.skip_space()
            quote = self.peek()
            if quote not in ("'", '"'):
                raise self.fail(f"expected a quoted key at position {self.i}")
            self.i += 1
            start = self.i
            escaped = False
            while True:
                if self.i >= len(self.s):
                    raise self.fail("unterminated quoted key")
                ch = self.s[self.i]
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == quote:
                    break
                self.i += 1
            names.append(self.s[start:self.i])  # verbatim, as Step Functions does
            self.i += 1
            self.skip_space()
            if self.peek() == ",":
                self.i += 1
                continue
            self.expect("]")
            return Prop(tuple(names))

    _INT = re.compile(r"-?\d+")

    def integer(self) -> int | None:
        self.skip_space()
        m = self._INT.match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        self.skip_space()
        return int(m.group())

    def indexes(self) -> Token:
        start = self.integer()
        if self.peek() == ":":
            self.i += 1
            end = self.integer()
            if self.peek() == ":":
                raise self.fail("slice steps are not supported")
            self.expect("]")
            if start is None and end is None:
                raise self.fail("a slice needs a start or an end")
            return Slice(start, end)
        if start is None:
            raise self.fail(f"expected an index, a slice, '*', '?' or a quoted key at position {self.i}")
        values = [start]
        while self.peek() == ",":
            self.i += 1
            value = self.integer()
            if value is None:
                raise self.fail(f"expected an index at position {self.i}")
            values.append(value)
        self.expect("]")
        return Index(tuple(values))

    def filter(self) -> Token:
        self.i += 1  # '?'
        self.skip_space()
        self.expect("(")
        start = self.i
        depth = 1
        quote = ""
        in_regex = False
        while self.i < len(self.s):
            ch = self.s[self.i]
            if quote:
                if ch == "\\":
                    self.i += 1
                elif ch == quote:
                    quote = ""
            elif in_regex:
                if ch == "\\":
                    self.i += 1
                elif ch == "/":
                    in_regex = False
            elif ch in ("'", '"'):
                quote = ch
            elif ch == "/" and self.s[start:self.i].rstrip().endswith("=~"):
                in_regex = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            self.i += 1
        if depth:
            raise self.fail("unterminated filter '[?(' ... ')]'")
        text = self.s[start:self.i]
        self.i += 1
        self.skip_space()
        self.expect("]")
        try:
            expression = _FilterParser(text).parse()
        except JsonPathSyntaxError as problem:
            raise self.fail(f"bad filter '{text}': {problem}") from None
        return Filter(expression, text)


# --- filter expressions ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Regex:
    pattern: re.Pattern


@dataclass(frozen=True)
class _PathRef:
    relative: bool  # '@' (the current item) or '$' (the document root)
    path: Path


@dataclass(frozen=True)
class _Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class _Exists:
    operand: Any


@dataclass(frozen=True)
class _Not:
    operand: Any


@dataclass(frozen=True)
class _Logic:
    op: str
    operands: tuple[Any, ...]


_MISSING = object()


class _FilterParser:
    _OPS = ("==", "!=", "<=", ">=", "=~", "<", ">")
    _WORD_OPS = ("nin", "in")

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def fail(self, why: str) -> JsonPathSyntaxError:
        return JsonPathSyntaxError(why)

    def space(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def parse(self) -> Any:
        expression = self.or_expr()
        self.space()
        if self.i != len(self.s):
            raise self.fail(f"unexpected {self.s[self.i:]!r}")
        return expression

    def or_expr(self) -> Any:
        operands = [self.and_expr()]
        while self.take("||"):
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else _Logic("||", tuple(operands))

    def and_expr(self) -> Any:
        operands = [self.unary()]
        while self.take("&&"):
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else _Logic("&&", tuple(operands))

    def take(self, word: str) -> bool:
        self.space()
        if self.s.startswith(word, self.i):
            self.i += len(word)
            return True
        return False

    def unary(self) -> Any:
        self.space()
        if self.s.startswith("!", self.i) and not self.s.startswith("!=", self.i):
            self.i += 1
            return _Not(self.unary())
        if self.s.startswith("(", self.i):
            self.i += 1
            inner = self.or_expr()
            if not self.take(")"):
                raise self.fail("missing ')'")
            return inner
        left = self.operand()
        self.space()
        for op in self._OPS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                right = self.regex() if op == "=~" else self.operand()
                return _Compare(op, left, right)
        for op in self._WORD_OPS:
            if re.match(rf"{op}\b", self.s[self.i:]):
                self.i += len(op)
                return _Compare(op, left, self.operand())
        if not isinstance(left, _PathRef):
            raise self.fail("a filter needs a comparison or an @ path")
        return _Exists(left)

    def regex(self) -> _Regex:
        self.space()
        if not self.s.startswith("/", self.i):
            raise self.fail("=~ must be followed by a /regex/")
        j = self.i + 1
        while j < len(self.s) and self.s[j] != "/":
            if self.s[j] == "\\":
                j += 1
            j += 1
        if j >= len(self.s):
            raise self.fail("unterminated /regex/")
        pattern = self.s[self.i + 1:j]
        j += 1
        flags = 0
        while j < len(self.s) and self.s[j].isalpha():
            flag = self.s[j]
            if flag == "i":
                flags |= re.IGNORECASE
            elif flag == "m":
                flags |= re.MULTILINE
            elif flag == "s":
                flags |= re.DOTALL
            elif flag == "x":
                flags |= re.VERBOSE
            else:
                raise self.fail(f"unknown regex flag {flag!r}")
            j += 1
        self.i = j
        try:
            return _Regex(re.compile(pattern, flags))
        except re.error as problem:
            raise self.fail(f"bad regex /{pattern}/: {problem}") from None

    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")

    def operand(self) -> Any:
        self.space()
        c = self.s[self.i] if self.i < len(self.s) else ""
        if c in ("@", "$"):
            start = self.i
            self.i += 1
            depth = 0
            quote = ""
            while self.i < len(self.s):
                ch = self.s[self.i]
                if quote:
                    if ch == "\\":
                        self.i += 1
                    elif ch == quote:
                        quote = ""
                elif ch in ("'", '"'):
                    quote = ch
                elif ch == "[":
                    depth += 1
                elif ch == "]":
                    depth -= 1
                elif depth == 0 and (ch.isspace() or ch in "=!<>&|)"):
                    break
                self.i += 1
            text = self.s[start:self.i]
            path = parse("$" + text[1:]) if c == "@" else parse(text)
            return _PathRef(c == "@", path)
        if c in ("'", '"'):
            j = self.i + 1
            out: list[str] = []
            while j < len(self.s) and self.s[j] != c:
                if self.s[j] == "\\" and j + 1 < len(self.s):
                    j += 1
                out.append(self.s[j])
                j += 1
            if j >= len(self.s):
                raise self.fail("unterminated string")
            self.i = j + 1
            return _Literal("".join(out))
        if c == "[":
            self.i += 1
            items: list[Any] = []
            self.space()
            if self.take("]"):
                return _Literal(items)
            while True:
                item = self.operand()
                if not isinstance(item, _Literal):
                    raise self.fail("lists may only hold literals")
                items.append(item.value)
                if self.take(","):
                    continue
                if self.take("]"):
                    return _Literal(items)
                raise self.fail("bad list")
        for word, value in (("true", True), ("false", False), ("null", None)):
            if re.match(rf"{word}\b", self.s[self.i:]):
                self.i += len(word)
                return _Literal(value)
        m = self._NUMBER.match(self.s, self.i)
        if m:
            self.i = m.end()
            text = m.group()
            return _Literal(float(text) if any(ch in text for ch in ".eE") else int(text))
        raise self.fail(f"unexpected {self.s[self.i:]!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _operand_value(operand: Any, item: Any, root: Any) -> Any:
    if isinstance(operand, _Literal):
        return operand.value
    if isinstance(operand, _PathRef):
        found = evaluate(operand.path, item if operand.relative else root, strict=False)
        if operand.path.definite:
            return found[0] if found else _MISSING
        return found
    return operand


def _equal(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return False
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if type(a) is not type(b):
        return False
    return a == b


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op == "=~":
        return isinstance(a, str) and b.pattern.fullmatch(a) is not None
    if op in ("in", "nin"):
        if not isinstance(b, list):
            return False
        inside = any(_equal(a, item) for item in b)
        return inside if op == "in" else not inside
    if _is_number(a) and _is_number(b):
        pass
    elif not (isinstance(a, str) and isinstance(b, str)):
        return False
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _test(expression: Any, item: Any, root: Any) -> bool:
    if isinstance(expression, _Logic):
        if expression.op == "&&":
            return all(_test(e, item, root) for e in expression.operands)
        return any(_test(e, item, root) for e in expression.operands)
    if isinstance(expression, _Not):
        return not _test(expression.operand, item, root)
    if isinstance(expression, _Exists):
        value = _operand_value(expression.operand, item, root)
        return value is not _MISSING and value != []
    if isinstance(expression, _Compare):
        left = _operand_value(expression.left, item, root)
        right = expression.right if isinstance(expression.right, _Regex) else _operand_value(
            expression.right, item, root)
        return _compare(expression.op, left, right)
    return bool(_operand_value(expression, item, root))


# --- evaluation -----------------------------------------------------------------------------


class _Walk:
    def __init__(self, path: Path, root: Any, strict: bool) -> None:
        self.path = path
        self.tokens = path.tokens
        self.root = root
        self.strict = strict
        self.results: list[Any] = []
        self.upstream_definite = [True] * (len(self.tokens) + 1)
        last = len(self.tokens) - 1
        for i, token in enumerate(self.tokens):
            self.upstream_definite[i + 1] = (
                self.upstream_definite[i] and _token_definite(token, i == last)
            )

    def run(self) -> list[Any]:
        self.step(0, "$", self.root)
        return self.results

    def strict_here(self, i: int) -> bool:
        return self.strict and self.upstream_definite[i]

    def step(self, i: int, where: str, model: Any) -> None:
        if i == len(self.tokens):
            self.results.append(model)
            return
        token = self.tokens[i]
        leaf = i == len(self.tokens) - 1
        if isinstance(token, Prop):
            self.prop(i, token, leaf, where, model)
        elif isinstance(token, Index):
            if not self.check_array(i, token, where, model):
                return
            for index in token.indexes:
                effective = index + len(model) if index < 0 else index
                if 0 <= effective < len(model):
                    self.step(i + 1, f"{where}[{index}]", model[effective])
        elif isinstance(token, Slice):
            if not self.check_array(i, token, where, model):
                return
            for offset, item in self.sliced(token, model):
                self.step(i + 1, f"{where}[{offset}]", item)
        elif isinstance(token, Wildcard):
            if isinstance(model, dict):
                for key, item in model.items():
                    self.step(i + 1, f"{where}['{key}']", item)
            elif isinstance(model, list):
                for offset, item in enumerate(model):
                    self.step(i + 1, f"{where}[{offset}]", item)
        elif isinstance(token, Filter):
            if isinstance(model, list):
                for offset, item in enumerate(model):
                    if _test(token.expression, item, self.root):
                        self.step(i + 1, f"{where}[{offset}]", item)
            elif isinstance(model, dict) and _test(token.expression, model, self.root):
                self.step(i + 1, where, model)
        elif isinstance(token, Scan):
            for sub_where, node in _walk_tree(where, model):
                self.step(i + 1, sub_where, node)

    @staticmethod
    def sliced(token: Slice, model: list[Any]) -> Iterator[tuple[int, Any]]:
        indexes = range(len(model))[slice(token.start, token.end)]
        for offset in indexes:
            yield offset, model[offset]

    def check_array(self, i: int, token: Token, where: str, model: Any) -> bool:
        if isinstance(model, list):
            return True
        if self.strict_here(i):
            if model is None:
                raise PathNotFound(f"The path {where} is null")
            raise PathNotFound(f"Filter: {token.fragment()} can only be applied to arrays. "
                               f"Current context is: {java_str(model)}")
        return False

    def prop(self, i: int, token: Prop, leaf: bool, where: str, model: Any) -> None:
        if not isinstance(model, dict):
            if self.strict_here(i):
                raise PathNotFound(
                    f"Expected to find an object with property {token.fragment()} in path {where} "
                    f"but found '{java_class_name(model)}'. This is not a json object according "
                    f"to the JsonProvider: '{_PROVIDER}'.")
            return
        if len(token.names) == 1:
            name = token.names[0]
            if name not in model:
                if leaf or not self.strict_here(i) or not _token_definite(token, leaf):
                    return
                raise PathNotFound(f"Missing property in path {where}['{name}']")
            self.step(i + 1, f"{where}['{name}']", model[name])
        elif leaf:  # several keys at the end: one object with those that exist
            merged = {name: model[name] for name in token.names if name in model}
            self.step(i + 1, where + token.fragment(), merged)
        else:
            for name in token.names:
                if name in model:
                    self.step(i + 1, f"{where}['{name}']", model[name])


def _walk_tree(where: str, model: Any) -> Iterator[tuple[str, Any]]:
    yield where, model
    if isinstance(model, dict):
        for key, item in model.items():
            yield from _walk_tree(f"{where}['{key}']", item)
    elif isinstance(model, list):
        for offset, item in enumerate(model):
            yield from _walk_tree(f"{where}[{offset}]", item)


def evaluate(path: Path | str, root: Any, *, strict: bool) -> list[Any]:
    """Every value `path` selects in `root`, in document order.

    strict: raise PathNotFound with Jayway's message where Jayway (default options) would,
    including `No results for path: ...` when a definite path selects nothing. Otherwise
    return what was found, possibly nothing.
    """
    compiled = parse(path) if isinstance(path, str) else path
    results = _Walk(compiled, root, strict).run()
    if strict and not results and compiled.definite:
        raise PathNotFound(f"No results for path: {compiled.jayway()}")
    return results
