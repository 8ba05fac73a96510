"""The runtime's counters, named after StateFun's metrics where one exists (§3.12).

They are plain ints and bucket lists, bumped on the hot path at the cost of an attribute
increment; nothing here formats or exports. `baton.runtime.observability.prometheus` reads them
when `/metrics` is scraped, and the admin API's `/metrics.json` shows them as JSON.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from baton.module.typename import TypeName

# Seconds: from a loopback call (~1 ms) to a Lambda cold start and a call budget's end.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Messages per invocation batch (StateFun's maxNumBatchRequests defaults to 1000).
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)
# Changes per epoch commit (state values, mailbox rows, delayed messages, outbox records, ...).
EPOCH_SIZE_BUCKETS = (1, 10, 100, 1_000, 10_000, 100_000)


class Histogram:
    """Counts per bucket (`counts[i]`: values ≤ `bounds[i]`, the last one above all) and a sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[float, int]]:
        """`(upper bound, count of values ≤ it)`, ending with `(inf, count)`: Prometheus' buckets."""
        total, buckets = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts):
            total += count
            buckets.append((bound, total))
        return buckets


@dataclass(slots=True)
class FunctionMetrics:
    """Counters for one function type."""

    messages_in: int = 0  # StateFun `in`
    batches: int = 0  # invocation batches applied
    requests: int = 0  # requests sent, IncompleteInvocationContext retries included
    invocation_failures: int = 0  # failed attempts, StateFun `remoteInvocationFailures`
    out_local: int = 0  # messages sent to functions, StateFun `outLocal`
    out_egress: int = 0  # StateFun `outEgress`
    delayed: int = 0  # delayed messages scheduled
    parked: int = 0  # times an address of this type was parked
    batch_size: Histogram = field(default_factory=lambda: Histogram(BATCH_SIZE_BUCKETS))
    latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS_S))  # per applied batch

    def count_failed_attempt(self, why: str) -> None:
        self.invocation_failures += 1

    def as_dict(self) -> dict[str, float]:
        return {
            "messages_in": self.messages_in, "batches": self.batches, "requests": self.requests,
            "invocation_failures": self.invocation_failures, "out_local": self.out_local,
            "out_egress": self.out_egress, "delayed": self.delayed, "parked": self.parked,
            "latency_ms_total": round(self.latency.sum * 1000, 3),
        }


@dataclass(slots=True)
class EpochMetrics:
    """Commits of the durable store (none for the in-memory store)."""

    commits: int = 0
    failures: int = 0
    latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS_S))
    size: Histogram = field(default_factory=lambda: Histogram(EPOCH_SIZE_BUCKETS))

    def committed(self, seconds: float, changes: int) -> None:
        self.commits += 1
        self.latency.observe(seconds)
        self.size.observe(changes)


# What an ingress answered, by HTTP status: the `outcome` label of baton_ingress_requests_total.
INGRESS_OUTCOMES = {
    202: "accepted",
    200: "duplicate",  # an Idempotency-Key accepted before
    400: "bad_request",
    404: "no_endpoint",
    415: "unknown_content_type",
    503: "unavailable",  # the store cannot persist
}


@dataclass(slots=True)
class RuleMetrics:
    """Counters for one data-quality rule (`baton.rules.v1/rules`), by rule name."""

    checked: int = 0  # messages the rule was evaluated on
    failed: int = 0  # of those, how many did not meet it (false or an evaluation error)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class Metrics:
    """Counters for every function type seen so far, the store's epochs, ingresses, egresses and
    data-quality rules."""

    def __init__(self) -> None:
        self._by_type: dict[TypeName, FunctionMetrics] = {}
        self.epochs = EpochMetrics()
        self.ingress: dict[tuple[str, str], int] = {}  # (ingress id, outcome) → requests
        self.egress_published: dict[str, int] = {}  # egress id → records
        self.rules: dict[str, RuleMetrics] = {}

    def of(self, function_type: TypeName) -> FunctionMetrics:
        metrics = self._by_type.get(function_type)
        if metrics is None:
            metrics = self._by_type[function_type] = FunctionMetrics()
        return metrics

    def items(self) -> list[tuple[TypeName, FunctionMetrics]]:
        return sorted(self._by_type.items())

    def count_ingress(self, ingress: str, status: int) -> None:
        key = (ingress, INGRESS_OUTCOMES.get(status, str(status)))
        self.ingress[key] = self.ingress.get(key, 0) + 1

    def count_egress(self, egress: str) -> None:
        self.egress_published[egress] = self.egress_published.get(egress, 0) + 1
