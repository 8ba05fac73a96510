"""`GET /metrics` in the Prometheus text format, read from the runtime's plain counters.

Nothing is registered per message: a collector of this runtime's own registry (never the
process-global one, so two runtimes in one process do not mix) reads `runtime.metrics` and
`runtime.status()` when scraped. Extensions may add collectors (e.g. workflow executions by
status).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from baton.runtime.api import RuntimeAPI
from baton.runtime.metrics import FunctionMetrics, Histogram

# Counters per function type: (metric name without _total, help, attribute of FunctionMetrics).
_FUNCTION_COUNTERS = (
    ("baton_function_messages_in", "Messages delivered to the function type (StateFun `in`).", "messages_in"),
    ("baton_function_batches", "Invocation batches applied.", "batches"),
    ("baton_function_requests", "Requests sent, IncompleteInvocationContext rounds included.", "requests"),
    ("baton_function_invocation_failures", "Failed call attempts (retried or not).", "invocation_failures"),
    ("baton_function_messages_out", "Messages sent to functions (`outLocal`).", "out_local"),
    ("baton_function_egress_out", "Egress records the function type sent (`outEgress`).", "out_egress"),
    ("baton_function_delayed", "Delayed messages the function type scheduled.", "delayed"),
    ("baton_function_parked", "Times an address of the function type was parked.", "parked"),
)


def _buckets(histogram: Histogram) -> list[tuple[str, float]]:
    return [("+Inf" if b == float("inf") else repr(float(b)), c) for b, c in histogram.cumulative()]


class RuntimeCollector(Collector):
    """Reads one runtime's counters and status at scrape time."""

    def __init__(self, runtime: RuntimeAPI) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self._runtime
        status = runtime.status()
        items = runtime.metrics.items()
        functions: list[tuple[str, FunctionMetrics]] = [(str(t), m) for t, m in items]
        labels = ["function_type"]
        for name, doc, attribute in _FUNCTION_COUNTERS:
            counter = CounterMetricFamily(name, doc, labels=labels)
            for function_type, metrics in functions:
                counter.add_metric([function_type], getattr(metrics, attribute))
            yield counter
        backlog = GaugeMetricFamily(
            "baton_function_backlog", "Messages waiting at (or in flight to) the function type.",
            labels=labels,
        )
        for function_type_name, _ in items:
            backlog.add_metric([str(function_type_name)], status.backlog.get(function_type_name, 0))
        yield backlog
        yield self._histograms(
            "baton_function_batch_size", "Messages per invocation batch.", functions, "batch_size"
        )
        yield self._histograms(
            "baton_function_invocation_seconds",
            "Time from sending a batch to its reply applied, retries included.", functions, "latency",
        )
        for name, doc, value in (
            ("baton_queued_messages", "Messages accepted and not yet applied.", status.queued),
            ("baton_inflight_batches", "Invocation batches in flight.", status.inflight),
            ("baton_delayed_pending", "Delayed messages waiting to fire.", status.delayed),
            ("baton_parked_addresses", "Addresses parked, waiting for an operator.", status.parked),
        ):
            yield GaugeMetricFamily(name, doc, value=value)
        yield from self._epochs()
        ingress = CounterMetricFamily(
            "baton_ingress_requests", "Ingress requests by outcome (accepted, duplicate, refused: why).",
            labels=["ingress", "outcome"],
        )
        for (ingress_id, outcome), count in sorted(runtime.metrics.ingress.items()):
            ingress.add_metric([ingress_id, outcome], count)
        yield ingress
        published = CounterMetricFamily(
            "baton_egress_published", "Egress records published to the outbox.", labels=["egress"]
        )
        for egress, count in sorted(runtime.metrics.egress_published.items()):
            published.add_metric([egress], count)
        yield published
        pending = GaugeMetricFamily(
            "baton_egress_pending", "Egress records readable and not yet taken.", labels=["egress", "topic"]
        )
        for (egress, topic), count in sorted(status.egress_pending.items()):
            pending.add_metric([egress, topic], count)
        yield pending
        checked = CounterMetricFamily(
            "baton_rule_checked", "Messages a data-quality rule was evaluated on.", labels=["rule"]
        )
        failed = CounterMetricFamily(
            "baton_rule_failed", "Messages that did not meet a data-quality rule.", labels=["rule"]
        )
        for rule, counts in sorted(runtime.metrics.rules.items()):
            checked.add_metric([rule], counts.checked)
            failed.add_metric([rule], counts.failed)
        yield checked
        yield failed

    def _epochs(self) -> Iterator[Metric]:
        epochs = self._runtime.metrics.epochs
        yield CounterMetricFamily("baton_epoch_commits", "Epochs committed.", value=epochs.commits)
        yield CounterMetricFamily(
            "baton_epoch_commit_failures", "Epoch commits that failed (and were retried).",
            value=epochs.failures,
        )
        latency = HistogramMetricFamily("baton_epoch_commit_seconds", "Time to write one epoch.")
        latency.add_metric([], _buckets(epochs.latency), epochs.latency.sum)
        yield latency
        size = HistogramMetricFamily("baton_epoch_changes", "Changes written per epoch commit.")
        size.add_metric([], _buckets(epochs.size), epochs.size.sum)
        yield size

    @staticmethod
    def _histograms(
        name: str, doc: str, functions: Iterable[tuple[str, FunctionMetrics]], attribute: str
    ) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, doc, labels=["function_type"])
        for function_type, metrics in functions:
            histogram: Histogram = getattr(metrics, attribute)
            family.add_metric([function_type], _buckets(histogram), histogram.sum)
        return family


def prometheus_routes(runtime: RuntimeAPI, collectors: Sequence[Collector] = ()) -> list[web.RouteDef]:
    """`GET /metrics`: this runtime's registry (its collector plus the extensions') as text."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    for collector in collectors:
        registry.register(collector)

    async def scrape(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return [web.get("/metrics", scrape)]
