"""YAML with locations: every module.yaml value with its file, line and field path.

ruamel composes the YAML; `documents` turns each document into `Node`s, which the parsers read
with typed accessors (`text`, `integer`, `duration`, `typename`, ...) that fail or warn with the
value's location. A scalar keeps both its YAML value and its text as written, so a reader can
coerce like Jackson's binding or insist on the real type like StateFun's `Selectors`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, cast

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.nodes import Node as ComposedNode

from baton.diagnostics import ModuleError, ModuleWarning
from baton.module.durations import FLINK_LABELS, duration_unit, parse_duration
from baton.module.typename import TypeName

INT32 = (-(2**31), 2**31 - 1)  # Java int: the range of StateFun's int fields


@dataclass(frozen=True, slots=True)
class Node:
    """One YAML value with where it was written.

    `value` is None/bool/int/float/str for scalars, dict[str, Node] for mappings and
    list[Node] for sequences. `line` is 1-based: the key's line for mapping values, else the
    line where the value starts. `path` is the dotted field path, e.g. `spec.topics[0].topic`.
    """

    value: Any
    raw: str | None
    line: int
    path: str
    file: str

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1] or "document"

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_null(self) -> bool:
        return self.value is None

    def fail(self, message: str) -> NoReturn:
        raise ModuleError(message, file=self.file, line=self.line, field=self.path or None)

    def warn(self, message: str) -> None:
        warn_at(self.file, self.line, self.path, message)

    def child_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    # -- structure ----------------------------------------------------------------------------

    def mapping(self, example: str = "") -> dict[str, Node]:
        if not self.is_map:
            hint = f" Write it like:\n  {example}" if example else ""
            self.fail(
                f"`{self.name}` must be a mapping (key: value pairs), got {describe(self)}.{hint}"
            )
        return self.value

    def items(self, example: str = "") -> list[Node]:
        if not self.is_list:
            hint = (
                f" Write it as a YAML list, e.g. {example}"
                if example
                else " Write it as a YAML list."
            )
            self.fail(f"`{self.name}` must be a list, got {describe(self)}.{hint}")
        return self.value

    def get(self, key: str) -> Node | None:
        """The child at `key`; an explicit null counts as absent, as for Jackson's setters."""
        child = self.mapping().get(key)
        return None if child is None or child.is_null else child

    def require(self, key: str, example: str) -> Node:
        child = self.get(key)
        if child is None:
            self.missing(key, f"Add it, e.g. `{example}`.")
        return child

    def missing(self, key: str, how: str) -> NoReturn:
        raise ModuleError(
            f"missing required key `{key}`. {how}",
            file=self.file,
            line=self.line,
            field=self.child_path(key),
        )

    # -- scalars ------------------------------------------------------------------------------

    def text(self, *, strict: bool = False, example: str = "") -> str:
        """A string. Jackson-bound fields also take numbers and booleans (as written);
        `strict` mirrors StateFun's `Selectors.textAt`, which wants a real string."""
        if isinstance(self.value, str):
            return self.value
        if not strict and isinstance(self.value, (bool, int, float)):
            return self.raw or str(self.value)
        hint = f" Write e.g. `{example}`." if example else ""
        quote = (
            " Quote it to make it a string." if isinstance(self.value, (bool, int, float)) else ""
        )
        self.fail(f"`{self.name}` must be a string, got {describe(self)}.{quote}{hint}")

    def integer(
        self,
        *,
        strict: bool = False,
        example: str = "1000",
        lo: int | None = None,
        hi: int | None = None,
    ) -> int:
        """An int. Jackson-bound int fields also take numeric strings; `strict` mirrors
        `Selectors.optionalIntegerAt` ("not an integer")."""
        value = self.value
        if isinstance(value, str) and not strict and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                f"`{self.name}` must be an integer, got {describe(self)}. "
                f"Use a number such as {example}."
            )
        low, high = INT32 if lo is None and hi is None else (lo, hi)
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(f"`{self.name}` must be between {low} and {high}, got {value}.")
        return value

    def duration(self) -> timedelta:
        """A Flink duration: `10s`, `2 min`, `500ms`; a bare number is milliseconds."""
        if isinstance(self.value, bool) or not isinstance(self.value, (str, int)):
            self.fail(
                f"`{self.name}` must be a duration such as `{self.name}: 10s`, "
                f"got {describe(self)}. "
                "Units: ms, s, min, h, d; a bare number means milliseconds."
            )
        try:
            result = parse_duration(self.value)
        except ValueError as exc:
            self.fail(
                f"`{self.name}` is not a valid duration: {exc}. Write e.g. `{self.name}: 10s`."
            )
        if isinstance(self.value, str) and duration_unit(self.value) not in (None, *FLINK_LABELS):
            self.warn(
                f"the unit in {self.value!r} is a baton convenience; "
                "StateFun only accepts `µs` or `micros`."
            )
        return result

    def typename(self, example: str, *, strict: bool = False) -> TypeName:
        text = self.text(strict=strict, example=f"{self.name}: {example}")
        try:
            return TypeName.parse(text)
        except ValueError:
            self.fail(
                f"Invalid type name string: {text!r}. Must be of format <namespace>/<name> "
                f"with exactly one `/`, e.g. `{example}`."
            )


def describe(node: Node) -> str:
    """How a found value reads in an error message."""
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {node.raw}"
    if isinstance(value, (int, float)):
        return f"the number {node.raw}"
    return repr(value)


def warn_at(file: str, line: int | None, field: str | None, message: str) -> None:
    where = f"{file}:{line}" if line is not None else file
    warnings.warn(f"{where}: {field + ': ' if field else ''}{message}", ModuleWarning, stacklevel=3)


# --- conversion from ruamel's composed nodes --------------------------------------------------

_NULLS = {"", "~", "null", "Null", "NULL"}


def _scalar(node: ScalarNode) -> Any:
    """The value of a plain scalar by its resolved tag; timestamps and custom tags stay text."""
    tag, raw = str(node.tag), node.value
    if tag.endswith(":null") and raw in _NULLS:
        return None
    if tag.endswith(":bool"):
        return raw.lower() in ("true", "yes", "on", "y")
    if tag.endswith(":int"):
        return _yaml_int(raw)
    if tag.endswith(":float"):
        return _yaml_float(raw)
    return raw


def _joined_surrogates(text: str, file: str, line: int, path: str) -> str:
    """Text with JSON-style surrogate-pair escapes (`"\\ud83c\\udd97"`) joined into one character.

    YAML decodes each `\\u` escape alone, so a pair written as JSON writes it would stay two
    lone surrogates: text no UTF-8 encoder accepts (a state or a message could never be sent).
    """
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise ModuleError(
            "a lone UTF-16 surrogate escape (\\ud800-\\udfff) is not a character: write the "
            "character itself, a pair of escapes, or one \\U0001XXXX escape",
            file=file, line=line, field=path or None,
        ) from None


def _yaml_int(raw: str) -> int | str:
    text = raw.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits[:2].lower() in ("0x", "0o", "0b"):
            return sign * int(digits, 0)
        return sign * int(digits, 10)
    except ValueError:
        return raw


def _yaml_float(raw: str) -> float | str:
    text = raw.replace("_", "").lower()
    special = {
        ".inf": float("inf"),
        "+.inf": float("inf"),
        "-.inf": float("-inf"),
        ".nan": float("nan"),
    }
    if text in special:
        return special[text]
    try:
        return float(text)
    except ValueError:
        return raw


def _convert(node: ComposedNode, file: str, path: str, line: int, active: set[int]) -> Node:
    if id(node) in active:
        raise ModuleError(
            "a YAML alias refers to itself; StateFun cannot read recursive documents.",
            file=file,
            line=line,
            field=path or None,
        )
    if isinstance(node, ScalarNode):
        node.value = _joined_surrogates(node.value, file, line, path)
        return Node(_scalar(node), node.value, line, path, file)
    active.add(id(node))
    try:
        if isinstance(node, SequenceNode):
            items = [
                _convert(item, file, f"{path}[{i}]", item.start_mark.line + 1, active)
                for i, item in enumerate(node.value)
            ]
            return Node(items, None, line, path, file)
        # ruamel composes only scalars, sequences and mappings
        mapping = cast(MappingNode, node)
        return Node(_convert_mapping(mapping, file, path, active), None, line, path, file)
    finally:
        active.discard(id(node))


def _convert_mapping(node: MappingNode, file: str, path: str, active: set[int]) -> dict[str, Node]:
    entries: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode):
            raise ModuleError(
                "mapping keys must be plain strings, not lists or mappings.",
                file=file,
                line=key_line,
                field=path or None,
            )
        key = _joined_surrogates(key_node.value, file, key_line, path)
        child_path = f"{path}.{key}" if path else key
        if key in entries:
            # Jackson keeps the last value of a repeated key.
            warn_at(
                file,
                key_line,
                child_path,
                f"key `{key}` is repeated (first at line {entries[key].line}); "
                "the last value wins, as in StateFun.",
            )
        entries[key] = _convert(value_node, file, child_path, key_line, active)
    return entries


def documents(text: str, file: str) -> list[Node]:
    """Every document of a YAML stream, null ones included (they matter for legacy detection)."""
    try:
        composed = list(YAML(typ="rt").compose_all(text))
    except MarkedYAMLError as exc:
        raise _yaml_error(exc, file) from None
    except YAMLError as exc:
        raise ModuleError(f"invalid YAML: {exc}", file=file) from None
    return [_convert(doc, file, "", doc.start_mark.line + 1, set()) for doc in composed]


def _yaml_error(exc: MarkedYAMLError, file: str) -> ModuleError:
    """A YAML syntax error, located where the fix most likely goes."""
    problem, context = exc.problem or "syntax error", exc.context
    mark = exc.problem_mark or exc.context_mark
    # An unclosed bracket or quote is reported at the end of the file; point at its opening.
    if exc.context_mark and "<stream end>" in problem:
        mark = exc.context_mark
    if context and exc.context_mark:
        problem = f"{problem} ({context} started at line {exc.context_mark.line + 1})"
    return ModuleError(
        f"invalid YAML: {problem}. Check the indentation, brackets and quoting around this line.",
        file=file,
        line=mark.line + 1 if mark else None,
    )


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """The first document of a YAML (or JSON) file as plain data, with each value's line."""
    file = str(path)
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ModuleError(f"cannot read the file: {error}", file=file) from None
    found = [doc for doc in documents(text, file) if not doc.is_null]
    if not found:
        raise ModuleError("the file holds no document", file=file)
    return to_plain(found[0]), lines_of(found[0])


def lines_of(node: Node, prefix: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], int]:
    """The YAML line of every value under `node`, by its key/index path (for later errors)."""
    lines = {prefix: node.line}
    if node.is_map:
        for key, child in node.value.items():
            lines.update(lines_of(child, (*prefix, key)))
    elif node.is_list:
        for index, child in enumerate(node.value):
            lines.update(lines_of(child, (*prefix, index)))
    return lines


def to_plain(node: Node) -> Any:
    """Plain dict/list/scalar data, for baton extension documents."""
    if node.is_map:
        return {key: to_plain(child) for key, child in node.value.items()}
    if node.is_list:
        return [to_plain(child) for child in node.value]
    return node.value
