"""The message flow at a readable rate (`baton run -v`): one line per active function type
every few seconds, from the runtime's counters. Per-batch lines are the invoker's, at -vv.
"""

from __future__ import annotations

import asyncio
import logging

from baton.runtime.api import RuntimeAPI
from baton.runtime.metrics import FunctionMetrics

log = logging.getLogger("baton.flow")

INTERVAL_S = 5.0
_COUNTED = ("messages_in", "batches", "out_local", "out_egress", "delayed", "parked",
            "invocation_failures")


def flow_lines(runtime: RuntimeAPI, before: dict[str, dict[str, float]]) -> list[str]:
    """What changed since `before` (updated in place), one line per function type."""
    lines = []
    status = runtime.status()
    for function_type, metrics in runtime.metrics.items():
        now = _counts(metrics)
        last = before.get(str(function_type), dict.fromkeys(_COUNTED, 0.0))
        before[str(function_type)] = now
        delta = {name: int(now[name] - last[name]) for name in _COUNTED}
        if not any(delta.values()):
            continue
        batches = delta["batches"]
        mean = f" (mean {delta['messages_in'] / batches:.1f} msgs)" if batches else ""
        lines.append(
            f"{function_type}: {delta['messages_in']} in, {batches} batches{mean}, "
            f"{delta['out_local']} sent, {delta['out_egress']} egress, {delta['delayed']} delayed"
            + (f", {delta['invocation_failures']} failed attempts" if delta["invocation_failures"] else "")
            + (f", {delta['parked']} parked" if delta["parked"] else "")
            + f"; backlog {status.backlog.get(function_type, 0)}"
        )
    return lines


def _counts(metrics: FunctionMetrics) -> dict[str, float]:
    values = metrics.as_dict()
    return {name: values[name] for name in _COUNTED}


async def log_flow(runtime: RuntimeAPI, interval_s: float = INTERVAL_S) -> None:
    """Log the flow every `interval_s` while anything moves; runs until cancelled."""
    before: dict[str, dict[str, float]] = {}
    while True:
        await asyncio.sleep(interval_s)
        for line in flow_lines(runtime, before):
            log.info("%s", line)
