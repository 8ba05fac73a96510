"""What every transport shares: the `Transport` protocol, its error, the retry budget and the
judgement of a reply.

A transport carries one serialized ToFunction to a function and returns the serialized
FromFunction, retrying failed attempts inside the endpoint's call budget (statefun-reference §3.6).
The invoker only ever sees this protocol; which kind is used is decided by `factory`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/octet-stream"
_MAX_BACKOFF_S = 5.0  # StateFun only caps by the budget; a cap keeps a recovering function snappy

FailedAttempt = Callable[[str], None]
"""Told why each failed attempt failed (the invoker counts them in the metrics)."""


class SleepingClock(Protocol):
    """A clock a retry budget can count on and sleep on (e.g. `baton.testing.VirtualClock`)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class TransportError(Exception):
    """A call failed for good: the budget is spent or the failure is not retriable."""


class Transport(Protocol):
    """Carries a ToFunction to a function and brings back its FromFunction."""

    async def call(
        self, target: str, body: bytes, on_failed_attempt: FailedAttempt | None = None
    ) -> bytes:
        """Send `body` to `target` (the endpoint's `url_for(function_type)`: a URL or a Lambda
        function name); return the reply's bytes, or raise TransportError."""
        ...

    async def close(self) -> None:
        """Release connections and threads; no call is made afterwards."""
        ...


class RetryBudget:
    """Exponential backoff within a call budget, shared by every transport (§3.6).

    When the budget is spent the error says what went wrong: the last attempt is often cut
    short by the budget itself (a TimeoutError), which hides the function's own error, so the
    last *other* error is reported with it. A failure repeated on every attempt is logged
    once per call, not once per attempt.
    Real transports count the budget on the loop's time (it bounds a real network call); a
    simulated one (`baton.testing`) passes its virtual clock, so its backoff takes no real time.
    """

    def __init__(
        self, budget_s: float, base_s: float, on_failed_attempt: FailedAttempt | None = None,
        *, clock: SleepingClock | None = None,
    ) -> None:
        self._time = clock.now if clock is not None else asyncio.get_running_loop().time
        self._sleep = clock.sleep if clock is not None else asyncio.sleep
        self.budget_s = budget_s
        self.deadline = self._time() + budget_s  # on the clock's time
        self._base_s = base_s
        self._on_failed_attempt = on_failed_attempt
        self.attempts = 0
        self._telling: str | None = None  # the last error that is not a timeout
        self._logged: str | None = None

    def remaining(self) -> float:
        return self.deadline - self._time()

    async def failed(self, why: str, target: str) -> None:
        """Count a failed attempt, then wait before the next; TransportError once spent."""
        self.attempts += 1
        if self._on_failed_attempt is not None:
            self._on_failed_attempt(why)
        if not why.startswith("TimeoutError"):
            self._telling = why
        remaining = self.remaining()
        if remaining <= 0.001:
            raise TransportError(
                f"gave up after {self.attempts} attempt(s) within the call timeout of "
                f"{self.budget_s:g}s; {self._errors(why)}"
            )
        delay = min(self._base_s * (2**self.attempts), _MAX_BACKOFF_S, remaining)
        if why != self._logged:
            log.info("call to %s failed (%s); retrying within %.3gs", target, why, remaining, extra={
                "event": "call_retried", "target": target, "error": why, "attempt": self.attempts,
            })
            self._logged = why
        await self._sleep(delay)

    def _errors(self, last: str) -> str:
        if self._telling is None or self._telling == last:
            return f"last error: {last}"
        return f"error: {self._telling} (then {last} as the call timeout ran out)"


def judge_response(
    status: int, content_type: str, payload: bytes, okhttp: bool, max_bytes: int | None
) -> str | None:
    """None for a good response, else why it is not."""
    if not 200 <= status < 300:
        snippet = payload[:200].decode("utf-8", "replace").strip()
        return f"HTTP {status}" + (f": {snippet}" if snippet else "")
    matches = content_type == CONTENT_TYPE if okhttp else content_type.lower() == CONTENT_TYPE
    if not matches:
        return f"wrong content type {content_type!r}; a function must reply {CONTENT_TYPE!r}"
    if max_bytes is not None and len(payload) > max_bytes:
        return f"response of {len(payload)} bytes exceeds payload_max_bytes={max_bytes}"
    return None
