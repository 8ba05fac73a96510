"""Which state values each function type has declared (learned from IncompleteInvocationContext).

Like StateFun, the registry lives in memory only: after a restart the first request of each type
carries no state, the SDK answers with the missing specs, and stored values reappear.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from statefun.request_reply_pb2 import FromFunction

from baton.module.typename import TypeName

UNSET_TYPE = "io.statefun.types/unset"


class ExpireMode(IntEnum):
    NONE = 0
    AFTER_WRITE = 1
    AFTER_INVOKE = 2


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """A declared state value: its name, type and time-to-live."""

    name: str
    typename: str
    expire_mode: ExpireMode = ExpireMode.NONE
    expire_after_ms: int = 0

    @property
    def ttl_seconds(self) -> float | None:
        if self.expire_mode == ExpireMode.NONE or self.expire_after_ms <= 0:
            return None
        return self.expire_after_ms / 1000.0


class StateTypeMismatch(Exception):
    """A function re-declared a state under a different type."""


class StateRegistry:
    """Registered value specs per function type; the first registration of a name wins."""

    def __init__(self) -> None:
        self._specs: dict[TypeName, dict[str, ValueSpec]] = {}

    def specs(self, function_type: TypeName) -> dict[str, ValueSpec]:
        return self._specs.setdefault(function_type, {})

    def register(
        self, function_type: TypeName, missing: Iterable[FromFunction.PersistedValueSpec]
    ) -> list[ValueSpec]:
        """Register missing specs; a type mismatch with an earlier registration raises."""
        known = self.specs(function_type)
        added = []
        for pb in missing:
            typename = pb.type_typename or UNSET_TYPE
            existing = known.get(pb.state_name)
            if existing is not None:
                if existing.typename != typename:
                    raise StateTypeMismatch(
                        f"state {pb.state_name!r} of {function_type} is registered as "
                        f"{existing.typename!r} but the function now declares {typename!r}"
                    )
                continue  # a different TTL is ignored, as in StateFun: the first one wins
            spec = ValueSpec(
                name=pb.state_name,
                typename=typename,
                expire_mode=ExpireMode(pb.expiration_spec.mode)
                if pb.expiration_spec.mode in (0, 1, 2)
                else ExpireMode.NONE,
                expire_after_ms=pb.expiration_spec.expire_after_millis,
            )
            known[spec.name] = spec
            added.append(spec)
        return added
