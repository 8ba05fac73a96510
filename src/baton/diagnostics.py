"""Problems in a user's files, located by file, line and field, and the did-you-mean hint.

One `Diagnostic` shape for every file baton validates: module.yaml documents (`ModuleError`,
field paths like `spec.topics[0].topic`) and States Language definitions (`DefinitionError`,
JSON paths like `States.Start.Next`). A validator collects every problem it finds and raises
the first one with all of them in `errors` (`Diagnostic.collected`).

This module depends on nothing else in baton, so every layer can use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Self

__all__ = [
    "DefinitionError",
    "Diagnostic",
    "JsonPath",
    "ModuleError",
    "ModuleWarning",
    "did_you_mean",
    "dotted",
]

JsonPath = tuple[str | int, ...]


class Diagnostic(Exception):
    """A problem located by file, 1-based line and field; `str()` reads `file:line: field: message`.

    When a validator finds several problems it raises the first one (in file and line order) and
    lists all of them, itself included, in `errors`.
    """

    scope = "file"  # what the "N more problem(s) in the …" note says the problems are in
    errors: list[Self]

    def __init__(
        self: Self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.errors = [self]
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        return ": ".join(part for part in (where, self.field, self.message) if part)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep file/line/field when pickled (e.g. across processes); `errors` is not kept.
        return (_rebuild, (type(self), self.message, self.file, self.line, self.field))

    def render_all(self) -> str:
        """Every collected problem, one per line."""
        return "\n".join(str(error) for error in self.errors)

    @classmethod
    def collected(cls, errors: Sequence[Self]) -> Self:
        """The first of several errors, carrying all of them in `errors` and in a note."""
        first = errors[0]
        first.errors = list(errors)
        if len(errors) > 1:
            others = "\n".join(f"  {error}" for error in errors[1:])
            first.add_note(f"{len(errors) - 1} more problem(s) in the {first.scope}:\n{others}")
        return first


def _rebuild(
    cls: type[Diagnostic], message: str, file: str | None, line: int | None, field: str | None
) -> Diagnostic:
    return cls(message, file=file, line=line, field=field)


class ModuleError(Diagnostic):
    """A module.yaml problem; `field` is the dotted field path, e.g. `spec.topics[0].topic`."""

    scope = "module"


class ModuleWarning(UserWarning):
    """A module.yaml that StateFun accepts but that is probably not what the author meant."""


class DefinitionError(Diagnostic):
    """A problem in a state machine definition, located by file, line and JSON path.

    `path` is the location as keys and indexes, e.g. `("States", "P", "Branches", 0)`; `field`
    is the same as text, `States.P.Branches[0]`.
    """

    scope = "definition"

    def __init__(
        self, message: str, file: str | None = None, line: int | None = None,
        path: JsonPath = (),
    ) -> None:
        self.path = tuple(path)
        super().__init__(message, file=file, line=line, field=dotted(self.path))

    def __reduce__(self) -> tuple[Any, ...]:
        return (DefinitionError, (self.message, self.file, self.line, self.path))


def dotted(path: JsonPath) -> str:
    """A JSON path as text: `States.Start.Next`, `States.P.Branches[0].StartAt`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def did_you_mean(
    word: str,
    choices: Iterable[object],
    *,
    n: int = 1,
    lead: str = " Did you mean",
    quote: str = "`",
    any_case: bool = True,
) -> str:
    """` Did you mean `close`?` for the choices closest to a misspelt word, else "".

    Close means difflib's ratio of at least 0.6; with `any_case`, a choice that differs from the
    word only in letter case counts too when nothing else is close. Non-string choices are
    skipped. `lead`, `quote` and `n` shape the sentence for the caller's message style.
    """
    names = [choice for choice in choices if isinstance(choice, str)]
    matches = difflib.get_close_matches(word, names, n=n, cutoff=0.6)
    if not matches and any_case:
        lowered = {name.lower(): name for name in names}
        matches = [lowered[word.lower()]] if word.lower() in lowered else []
    if not matches:
        return ""
    return f"{lead} {', '.join(f'{quote}{match}{quote}' for match in matches)}?"
