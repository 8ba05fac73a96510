"""Per-function-type counters, named after StateFun's metrics where one exists (§3.12)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from baton.module.typename import TypeName


@dataclass(slots=True)
class FunctionMetrics:
    """Counters for one function type."""

    messages_in: int = 0  # StateFun `in`
    batches: int = 0  # invocation batches applied
    requests: int = 0  # HTTP requests sent, IncompleteInvocationContext retries included
    invocation_failures: int = 0  # failed attempts, StateFun `remoteInvocationFailures`
    out_local: int = 0  # messages sent to functions, StateFun `outLocal`
    out_egress: int = 0  # StateFun `outEgress`
    delayed: int = 0  # delayed messages scheduled
    parked: int = 0  # times an address of this type was parked
    latency_ms_total: float = 0.0  # summed per applied batch, for the mean

    def count_failed_attempt(self, why: str) -> None:
        self.invocation_failures += 1

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(slots=True)
class RuleMetrics:
    """Counters for one data-quality rule (`baton.rules.v1/rules`), by rule name."""

    checked: int = 0  # messages the rule was evaluated on
    failed: int = 0  # of those, how many did not meet it (false or an evaluation error)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class Metrics:
    """Counters for every function type seen so far, and for every data-quality rule."""

    def __init__(self) -> None:
        self._by_type: dict[TypeName, FunctionMetrics] = {}
        self.rules: dict[str, RuleMetrics] = {}

    def of(self, function_type: TypeName) -> FunctionMetrics:
        metrics = self._by_type.get(function_type)
        if metrics is None:
            metrics = self._by_type[function_type] = FunctionMetrics()
        return metrics

    def items(self) -> list[tuple[TypeName, FunctionMetrics]]:
        return sorted(self._by_type.items())
