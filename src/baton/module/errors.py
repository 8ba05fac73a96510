"""Errors and warnings raised while loading module.yaml files."""

from __future__ import annotations

from collections.abc import Sequence


class ModuleWarning(UserWarning):
    """A module.yaml that StateFun accepts but that is probably not what the author meant."""


class ModuleError(Exception):
    """A module.yaml problem, located by file, 1-based line and dotted field path.

    When the loader finds several problems it raises the first one (in file and line order) and
    lists all of them, itself included, in `errors`.
    """

    def __init__(
        self,
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
        self.errors: list[ModuleError] = [self]
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [part for part in (where, self.field, self.message) if part]
        return ": ".join(parts)

    def __reduce__(self):  # keep file/line/field when pickled (e.g. across processes)
        return (_rebuild, (self.message, self.file, self.line, self.field))

    def render_all(self) -> str:
        """Every collected problem, one per line."""
        return "\n".join(str(error) for error in self.errors)

    @classmethod
    def collected(cls, errors: Sequence[ModuleError]) -> ModuleError:
        """The first of several errors, carrying all of them in `errors`."""
        first = errors[0]
        first.errors = list(errors)
        if len(errors) > 1:
            others = "\n".join(f"  {error}" for error in errors[1:])
            first.add_note(f"{len(errors) - 1} more problem(s) in the module:\n{others}")
        return first


def _rebuild(message: str, file: str | None, line: int | None, field: str | None) -> ModuleError:
    return ModuleError(message, file=file, line=line, field=field)
