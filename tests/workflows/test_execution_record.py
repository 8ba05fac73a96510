"""The stored execution record: one shape, the same bytes as before it had a type."""

from __future__ import annotations

from statefun import make_json_type

from baton.workflows.definition import parse_state_machine
from baton.workflows.engine import Engine
from baton.workflows.stored_execution import EXECUTION_STATE, TYPENAME, StoredExecution

MACHINE = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": True}}}


def test_a_stored_execution_round_trips_with_the_bytes_of_a_json_state():
    execution, _ = Engine(parse_state_machine(MACHINE), name="w/flow").start(
        {"text": "héllo"}, name="e1", now=1000.0
    )
    record = StoredExecution(execution, ["client/starter/c1"])
    data = record.to_json()
    assert data == {"execution": execution.to_json(), "callers": ["client/starter/c1"]}
    # What the interpreter stored as a plain JSON state value, byte for byte.
    assert record.encode() == make_json_type(TYPENAME).serializer().serialize(data)
    assert EXECUTION_STATE.serializer().serialize(record) == record.encode()
    decoded = EXECUTION_STATE.serializer().deserialize(record.encode())
    assert decoded.to_json() == data and not decoded.execution.finished
