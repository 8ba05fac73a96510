"""StateFun's `TypeName`: the `<namespace>/<name>` that names kinds, functions, ingresses and egresses.

Its own module because both the kind names (`baton.module.kinds`) and the specs
(`baton.module.specs`) are built from it, and the specs use the kind names as defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class TypeName:
    """A StateFun typename `<namespace>/<name>` (the namespace may be empty, as in Java)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> TypeName:
        """Parse like Java `String.split("/")`: exactly two parts, trailing empty parts dropped."""
        parts = text.split("/")
        while parts and parts[-1] == "":
            parts.pop()
        if len(parts) != 2:
            raise ValueError(
                f"Invalid type name string: {text!r}. Must be of format <namespace>/<name>."
            )
        return cls(parts[0], parts[1])
