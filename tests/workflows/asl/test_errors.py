"""Error names, Retry/Catch matching, the AWS cause prefix."""

from __future__ import annotations

import pytest

from baton.workflows.asl import errors
from baton.workflows.asl.errors import StatesError, matches


def test_states_error() -> None:
    failure = StatesError("States.Runtime", "boom")
    assert (failure.error, failure.cause) == ("States.Runtime", "boom")
    assert StatesError("X") == StatesError("X", None)
    assert str(failure) == "States.Runtime: boom"
    assert isinstance(failure, Exception)


def test_cause_prefix() -> None:
    assert errors.state_failure_cause("pass", 2, "Invalid path '$.x' : No results for path: $['x']") == (
        "An error occurred while executing the state 'pass' (entered at the event id #2). "
        "Invalid path '$.x' : No results for path: $['x']")


def test_constants() -> None:
    for name in ("ALL", "Runtime", "TaskFailed", "Timeout", "HeartbeatTimeout", "IntrinsicFailure",
                 "BranchFailed", "NoChoiceMatched", "ParameterPathFailure", "ResultPathMatchFailure",
                 "ItemReaderFailed", "Permissions", "DataLimitExceeded",
                 "ExceedToleratedFailureThreshold"):
        assert f"States.{name}" in errors.PREDEFINED_ERRORS
    assert errors.STATES_ALL == "States.ALL"
    assert errors.STATES_RESULT_PATH_MATCH_FAILURE == "States.ResultPathMatchFailure"


@pytest.mark.parametrize("error_equals, error, expected", [
    (["States.ALL"], "Exception", True),
    (["States.ALL"], "States.Timeout", True),
    (["States.ALL"], "States.TaskFailed", True),
    (["States.ALL"], "States.Runtime", False),  # recorded case 110
    (["States.Runtime"], "States.Runtime", False),  # recorded case 110: not even by name
    (["States.ALL"], "States.DataLimitExceeded", False),
    (["States.DataLimitExceeded"], "States.DataLimitExceeded", True),
    (["States.TaskFailed"], "Exception", True),  # recorded case 113
    (["States.TaskFailed"], "States.Permissions", True),
    (["States.TaskFailed"], "States.Timeout", False),
    (["States.Timeout"], "States.Timeout", True),
    (["CustomException"], "CustomException", True),  # recorded case 112
    (["CustomException"], "customexception", False),
    (["Other", "Exception"], "Exception", True),
    (["Other"], "Exception", False),  # recorded case 111
    ([], "Exception", False),
])
def test_matches(error_equals: list[str], error: str, expected: bool) -> None:
    assert matches(error_equals, error) is expected


def test_terminal() -> None:
    assert errors.is_terminal("States.Runtime")
    assert not errors.is_terminal("States.Timeout")
    assert not errors.is_retriable("States.Runtime")
    assert errors.is_retriable("Exception")
