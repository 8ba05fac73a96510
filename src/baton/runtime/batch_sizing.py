"""Invocation batches sized to the call budget.

`maxNumBatchRequests` bounds a batch, but a batch of 10,000 messages at 50 ms each would outlast
a 120 s call timeout and park a healthy function. So each function type keeps a moving average of
the time one message takes, and a batch holds at most what fits in a quarter of the endpoint's
call budget. Before anything is observed the batch is as large as the endpoint allows; if such a
batch spends the whole budget, the dispatcher retries its first message alone before parking.
"""

from __future__ import annotations

from baton.module.specs import EndpointSpec, HttpEndpointSpec

_SHARE_OF_BUDGET = 0.25  # leaves room for a slower batch, retries and a loaded machine
_WEIGHT = 0.5  # of the newest observation: adapts within a few batches


def call_budget_s(endpoint: EndpointSpec) -> float:
    """The time one call (all its retries included) may take: the endpoint's `call` timeout."""
    call = endpoint.transport.call if isinstance(endpoint, HttpEndpointSpec) else endpoint.call
    return call.total_seconds()


class BatchSizer:
    """How many messages the next batch of one function type may hold."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._per_message_s: float | None = None

    def limit(self, max_batch: int) -> int:
        """The batch size for `max_batch` (the endpoint's bound; <= 0: unbounded)."""
        per_message = self._per_message_s
        if per_message is None or per_message <= 0 or self.budget_s <= 0:
            return max_batch
        fits = max(1, int(self.budget_s * _SHARE_OF_BUDGET / per_message))
        return fits if max_batch <= 0 else min(fits, max_batch)

    def observe(self, messages: int, seconds: float) -> None:
        """Record that a batch of `messages` took `seconds` (the whole call)."""
        sample = seconds / max(messages, 1)
        previous = self._per_message_s
        self._per_message_s = sample if previous is None else (
            _WEIGHT * sample + (1 - _WEIGHT) * previous
        )
