"""The stored form of one workflow execution: the `execution` state value of its address.

The interpreter (`workflows/function.py`) writes it; the admin routes, `baton workflows run` and
tests read it. All of them go through `StoredExecution`, so its JSON shape is defined here only:

    {"execution": <Execution.to_json()>, "callers": ["<namespace>/<type>/<id>", ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statefun import ValueSpec, simple_type

from baton.workflows.engine import Execution

if TYPE_CHECKING:  # the interpreter runs without the runtime too (`baton serve`, a Lambda)
    from baton.runtime.address import Address
    from baton.runtime.api import RuntimeAPI

STATE_NAME = "execution"
TYPENAME = "baton.workflows/Execution"


@dataclass(slots=True)
class StoredExecution:
    """An execution's progress plus who started it (each gets the result when it finishes)."""

    execution: Execution
    callers: list[str] = field(default_factory=list)  # addresses, `namespace/type/id`

    def to_json(self) -> dict[str, Any]:
        return {"execution": self.execution.to_json(), "callers": list(self.callers)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredExecution:
        return cls(Execution.from_json(data["execution"]), list(data.get("callers", ())))

    def encode(self) -> bytes:
        # As the SDK's JSON types encode (ensure_ascii off): stored values stay byte-compatible.
        return json.dumps(self.to_json(), ensure_ascii=False).encode("utf-8")

    @classmethod
    def decode(cls, raw: bytes) -> StoredExecution:
        return cls.from_json(json.loads(raw))


# The SDK type of the state value: `context.storage.execution` reads and writes a StoredExecution.
EXECUTION_STATE = simple_type(
    TYPENAME, serialize_fn=StoredExecution.encode, deserialize_fn=StoredExecution.decode
)


def execution_spec() -> ValueSpec:
    """The interpreter function's state declaration."""
    return ValueSpec(STATE_NAME, EXECUTION_STATE)


def read_execution(runtime: RuntimeAPI, address: Address) -> StoredExecution | None:
    """The execution stored at an address of a running runtime, if one was started there."""
    stored = runtime.state(address).get(STATE_NAME)
    return StoredExecution.decode(stored.value) if stored is not None else None
