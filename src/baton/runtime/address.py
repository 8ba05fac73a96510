"""Addresses: `namespace/type/id`, the unit of state and of ordering."""

from __future__ import annotations

from typing import NamedTuple

from baton.module.typename import TypeName


class Address(NamedTuple):
    """One function instance: its function type plus an id (a tuple, so hashing is cheap)."""

    namespace: str
    type: str
    id: str

    @property
    def function_type(self) -> TypeName:
        return TypeName(self.namespace, self.type)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.type}/{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse `namespace/type/id`; the id is everything after the second slash."""
        parts = text.split("/", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"invalid address {text!r}: expected <namespace>/<type>/<id>")
        return cls(*parts)
