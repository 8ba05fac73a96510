"""Admission of ingress messages: bounded per address, per function type and for the runtime.

One mechanism (the dispatcher's `refusal`) serves two kinds of ingress. An HTTP ingress answers
a refusal at once (`429` when the address or function type is full, `503` when the runtime as
a whole is); a pull source (Kafka) waits until the check passes. Messages between functions are
never checked: refusing them would deadlock functions that call each other.

The bounds, and why each exists:
- per address: the backlog of an address being invoked may reach its endpoint's
  `maxNumBatchRequests` (StateFun's backpressure threshold, statefun-reference §3.3); a parked
  address keeps accepting up to `max_parked_backlog` (durably), then refuses, for itself only.
- per function type: one slow type cannot fill the whole queue (`max_queued_per_type`).
- the runtime: `max_queued` messages and `max_inflight` batches are memory guards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["address", "function type", "runtime"]


@dataclass(frozen=True, slots=True)
class Limits:
    """The admission bounds (see the module docstring)."""

    max_queued: int = 100_000
    max_inflight: int = 32_768
    max_queued_per_type: int | None = None  # None: half of max_queued
    max_parked_backlog: int = 1_000

    @property
    def per_type(self) -> int:
        if self.max_queued_per_type is not None:
            return self.max_queued_per_type
        return max(1, self.max_queued // 2)


DEFAULT_LIMITS = Limits()


class Refused(Exception):
    """An ingress message cannot be taken now; `scope` says what is full, the text why."""

    def __init__(self, scope: Scope, reason: str, retry_after_s: int = 1) -> None:
        super().__init__(reason)
        self.scope: Scope = scope
        self.retry_after_s = retry_after_s

    @property
    def http_status(self) -> int:
        """429 when one target is full (others are not), 503 when the runtime is."""
        return 503 if self.scope == "runtime" else 429
