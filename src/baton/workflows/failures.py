"""How a state fails in the engine: the errors it raises itself and how Retry/Catch match them.

A state handler fails in one of two ways: the asl layer (or the handler) raises a
`StatesError`, which AWS reports with the state's name as a prefix of the cause, or the handler
raises `StateFailure` with the error and cause to report unchanged (a Fail state, an unmatched
Choice). Both then go through the state's Retry and Catch.
"""

from __future__ import annotations

from baton.workflows.asl import errors as asl_errors
from baton.workflows.asl.errors import StatesError

RUNTIME = "States.Runtime"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"


class StateFailure(Exception):
    """A state failed (raised inside a state handler, handled by Retry/Catch)."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error, cause)
        self.error = error
        self.cause = cause


def runtime_error(cause: str) -> StatesError:
    return StatesError(RUNTIME, cause)


def error_of(failure: StatesError) -> tuple[str | None, str | None]:
    """The error and cause a StatesError carries (as attributes, or as its arguments)."""
    error = getattr(failure, "error", None)
    cause = getattr(failure, "cause", None)
    if error is None and failure.args:
        error = failure.args[0]
        cause = failure.args[1] if len(failure.args) > 1 else None
    return error, cause


def error_matches(error_equals: tuple[str, ...], error: str | None) -> bool:
    """Whether a retrier's or catcher's ErrorEquals covers `error`."""
    name = error or ""
    if asl_errors.matches(list(error_equals), name):
        return True
    # A heartbeat timeout is also a States.Timeout.
    return name == HEARTBEAT_TIMEOUT and asl_errors.matches(list(error_equals), TIMEOUT)
