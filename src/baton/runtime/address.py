"""Addresses: `namespace/type/id`, the unit of state and of ordering.

`str(address)` is for people (logs, the admin API); it does not round-trip when a namespace or
type holds a `/` (the SDKs build such targets from a typename with an extra `/`; ingress and
replies refuse them, see `problem`). Where an address is stored, `key` / `from_key` are used:
namespace and type are percent-escaped, so every key parses back to the address it came from,
and ordinary addresses read the same as `str()`.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote

from baton.module.typename import TypeName


class InvalidAddress(ValueError):
    """An address no function can have (e.g. a type with a `/`); the text says why."""

    def __init__(self, address: Address) -> None:
        super().__init__(f"invalid address {address.namespace!r}/{address.type!r}/{address.id!r}: "
                         f"{address.problem}")
        self.address = address


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

    @property
    def problem(self) -> str | None:
        """Why no function can have this address, or None. A function type is exactly
        `<namespace>/<name>` (as module.yaml's `functions` reads it), so neither holds a `/`."""
        if not self.namespace or not self.type:
            return "the namespace and the type must not be empty"
        if "/" in self.namespace or "/" in self.type:
            return (
                "a function type is <namespace>/<name> with no other '/' (e.g. example/greeter)"
            )
        return None

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def key(self) -> str:
        """The stored form: namespace and type escaped, so it cannot alias another address."""
        return f"{_escape(self.namespace)}/{_escape(self.type)}/{self.id}"

    @classmethod
    def from_key(cls, key: str) -> Address:
        """The address a `key` was made from."""
        namespace, type_, id_ = key.split("/", 2)
        return cls(unquote(namespace), unquote(type_), id_)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse `namespace/type/id` typed by a person; the id is everything after the second slash."""
        parts = text.split("/", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"invalid address {text!r}: expected <namespace>/<type>/<id>")
        return cls(*parts)


def _escape(part: str) -> str:
    # Only what would make a key ambiguous: '/' and the escape character itself.
    return part.replace("%", "%25").replace("/", "%2F")
