"""Errors of the States Language layer, with Step Functions' own names and wording.

Every runtime failure of the language layer is a `StatesError(error, cause)`. `error` is the
error name a `Retry`/`Catch` matches on (`States.Runtime`, `States.ResultPathMatchFailure` ...);
`cause` is AWS's text for the failure *without* the state prefix. The engine adds that prefix
when it reports the failure, exactly as Step Functions does::

    An error occurred while executing the state 'pass' (entered at the event id #2). <cause>

(`state_failure_cause(state, event_id, cause)` builds it). Recorded AWS texts reproduced here:

* Parameters / ErrorPath / CausePath / intrinsic argument paths that select nothing:
  ``The JSONPath '$.x' specified for the field 'value.$' could not be found in the input '{...}'``
* InputPath / OutputPath that select nothing (Jayway JsonPath's own messages):
  ``Invalid path '$.x' : No results for path: $['x']`` and
  ``Invalid path '$.no.such' : Missing property in path $['no']``
* Choice rule variables that do not exist:
  ``Invalid path '$.x': The choice state's condition path references an invalid value.``
* Intrinsic functions given arguments they refuse: ``Invalid arguments in States.MathAdd``
  (error `States.Runtime`, not `States.IntrinsicFailure`: that is what AWS reports).
"""

from __future__ import annotations

__all__ = [
    "PREDEFINED_ERRORS",
    "STATES_ALL",
    "STATES_BRANCH_FAILED",
    "STATES_DATA_LIMIT_EXCEEDED",
    "STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD",
    "STATES_HEARTBEAT_TIMEOUT",
    "STATES_HTTP_SOCKET",
    "STATES_INTRINSIC_FAILURE",
    "STATES_ITEM_READER_FAILED",
    "STATES_NO_CHOICE_MATCHED",
    "STATES_PARAMETER_PATH_FAILURE",
    "STATES_PERMISSIONS",
    "STATES_QUERY_EVALUATION_ERROR",
    "STATES_REFERENCE_PATH_CONFLICT",
    "STATES_RESULT_PATH_MATCH_FAILURE",
    "STATES_RESULT_WRITER_FAILED",
    "STATES_RUNTIME",
    "STATES_TASK_FAILED",
    "STATES_TIMEOUT",
    "StatesError",
    "is_retriable",
    "is_terminal",
    "matches",
    "state_failure_cause",
]

STATES_ALL = "States.ALL"
STATES_RUNTIME = "States.Runtime"
STATES_TASK_FAILED = "States.TaskFailed"
STATES_TIMEOUT = "States.Timeout"
STATES_HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
STATES_INTRINSIC_FAILURE = "States.IntrinsicFailure"
STATES_BRANCH_FAILED = "States.BranchFailed"
STATES_NO_CHOICE_MATCHED = "States.NoChoiceMatched"
STATES_PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
STATES_RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
STATES_ITEM_READER_FAILED = "States.ItemReaderFailed"
STATES_RESULT_WRITER_FAILED = "States.ResultWriterFailed"
STATES_PERMISSIONS = "States.Permissions"
STATES_DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
STATES_REFERENCE_PATH_CONFLICT = "States.ReferencePathConflict"
STATES_QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
STATES_HTTP_SOCKET = "States.Http.Socket"

PREDEFINED_ERRORS = frozenset({
    STATES_ALL, STATES_RUNTIME, STATES_TASK_FAILED, STATES_TIMEOUT, STATES_HEARTBEAT_TIMEOUT,
    STATES_INTRINSIC_FAILURE, STATES_BRANCH_FAILED, STATES_NO_CHOICE_MATCHED,
    STATES_PARAMETER_PATH_FAILURE, STATES_RESULT_PATH_MATCH_FAILURE, STATES_ITEM_READER_FAILED,
    STATES_RESULT_WRITER_FAILED, STATES_PERMISSIONS, STATES_DATA_LIMIT_EXCEEDED,
    STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD, STATES_REFERENCE_PATH_CONFLICT,
    STATES_QUERY_EVALUATION_ERROR, STATES_HTTP_SOCKET,
})

# Failures that end the execution whatever Retry/Catch say, even a catcher naming them:
# recorded case 110 (catch-states-runtime-not-catchable) has `"ErrorEquals": ["States.Runtime"]`
# and the execution still fails with States.Runtime.
_TERMINAL = frozenset({STATES_RUNTIME})
# Never matched by the States.ALL / States.TaskFailed wildcards (AWS docs: "States.ALL can't
# catch the States.DataLimitExceeded terminal error or Runtime error types").
_NOT_WILDCARDED = frozenset({STATES_RUNTIME, STATES_DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """A Step Functions failure: `error` is the error name, `cause` AWS's text (or None)."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(error if cause is None else f"{error}: {cause}")
        self.error = error
        self.cause = cause

    def __repr__(self) -> str:
        return f"StatesError({self.error!r}, {self.cause!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatesError):
            return NotImplemented
        return (self.error, self.cause) == (other.error, other.cause)

    def __hash__(self) -> int:
        return hash((self.error, self.cause))


def state_failure_cause(state_name: str, entered_event_id: int, cause: str | None) -> str:
    """The cause AWS reports for a States.Runtime (and similar) failure inside a state."""
    prefix = (f"An error occurred while executing the state '{state_name}' "
              f"(entered at the event id #{entered_event_id}).")
    return prefix if not cause else f"{prefix} {cause}"


def is_terminal(error: str) -> bool:
    """True for failures no Retry or Catch can take: they fail the execution (States.Runtime)."""
    return error in _TERMINAL


def is_retriable(error: str) -> bool:
    """Whether any retrier may retry `error` at all (States.Runtime never is)."""
    return error not in _TERMINAL


def matches(error_equals: list[str], error: str) -> bool:
    """Whether a retrier's or catcher's `ErrorEquals` list takes `error`.

    * `States.Runtime` is never taken, not even by a list naming it (recorded case 110).
    * `States.ALL` takes every other error except `States.DataLimitExceeded`.
    * `States.TaskFailed` is a wildcard for every error except `States.Timeout` (and the two
      above); AWS docs: "matches any known error name except for States.Timeout".
    * Any other name matches itself exactly (case-sensitive).
    """
    if error in _TERMINAL:
        return False
    for name in error_equals:
        if name == error:
            return True
        if error in _NOT_WILDCARDED:
            continue
        if name == STATES_ALL:
            return True
        if name == STATES_TASK_FAILED and error != STATES_TIMEOUT:
            return True
    return False
