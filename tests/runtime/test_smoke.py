"""StateFun's smoke e2e (statefun-reference §5.1), embedded: exactly-once counting under load.

10,000 generated command trees over 128 ids go through the playground ingress (64 requests in
flight) into `statefun.smoke.e2e/command-interpreter-fn` (official Python SDK, real HTTP on
loopback). Nested sends, delayed sends, send-after-with-cancellation and egress fan the work out.
Once the runtime is quiescent every id reports its state, which must equal what the generator's
tracker expects (no increment lost, none applied twice), and every `events` egress record must
come out exactly once.
"""

from __future__ import annotations

import time

import pytest

from baton.module.specs import TypeName
from tests.conftest import playground_module
from tests.smoke.commands import (
    EVENTS_TOPIC,
    FUNCTION_TYPE,
    VERIFICATION_TOPIC,
    count_messages,
    expected_counts,
    expected_egress,
    expected_egress_payloads,
    generate,
)
from tests.smoke.driver import (
    count_mismatches,
    drain,
    egress_mismatches,
    feed,
    runtime_status,
    take,
    verify,
)
from tests.smoke.interpreter import smoke_functions

SEED = 20240917
N_IDS = 128
N_COMMANDS = 10_000
IN_FLIGHT = 64


def smoke_module(function_url: str) -> str:
    """The smoke e2e's module.yaml (remote interpreter, big batches) plus the playground I/O."""
    return playground_module(
        function_url, "statefun.smoke.e2e", topics=(EVENTS_TOPIC, VERIFICATION_TOPIC),
        endpoint="maxNumBatchRequests: 10000",
    )


async def wait_quiescent(app, timeout: float) -> None:
    """Until nothing is queued or in flight and no delayed message is pending; fail on parking."""
    runtime = app.runtime
    try:
        await runtime.until_idle(timeout, timers=True)
    except TimeoutError:
        status = runtime.status()
        raise AssertionError(
            f"not quiescent after {timeout}s: queued={status.queued} "
            f"inflight={status.inflight} delayed={status.delayed}"
        ) from None
    parked = runtime.parked()
    assert not parked, f"parked: { {str(a): p.reason for a, p in parked.items()} }"


@pytest.mark.timeout(180)
async def test_smoke_exactly_once_counting(function_server, start_app):
    source_commands = generate(SEED, N_COMMANDS, n_ids=N_IDS)
    expected = expected_counts(source_commands, n_ids=N_IDS)
    expected_events = expected_egress_payloads(source_commands)
    assert len(expected_events) == expected_egress(source_commands) > 0
    invocations = count_messages(source_commands)

    app = await start_app(smoke_module(await function_server(smoke_functions())))

    started = time.perf_counter()
    await feed(app.session, app.ingress, source_commands, in_flight=IN_FLIGHT)
    fed = time.perf_counter()
    await wait_quiescent(app, timeout=120)
    done = time.perf_counter()

    metrics = app.runtime.metrics.of(TypeName.parse(FUNCTION_TYPE))
    stats = dict(metrics.as_dict())
    assert metrics.messages_in == invocations  # cancelled delayed messages never arrive
    status = await runtime_status(app.session, app.admin)
    assert (status["queued"], status["delayed_pending"], status["parked"]) == (0, 0, 0)

    actual = await verify(app.session, app.ingress, app.egress, N_IDS)
    assert await take(app.session, app.egress, VERIFICATION_TOPIC) is None
    over, under = count_mismatches(actual, expected)
    assert not over and not under, (
        f"over-counted {len(over)} ids (id: (actual, expected)): {over}; "
        f"under-counted {len(under)} ids: {under}"
    )

    events = await drain(app.session, app.egress, EVENTS_TOPIC)
    mismatches = egress_mismatches(events, expected_events)
    assert len(events) == len(expected_events) and not any(mismatches.values()), (
        f"{len(events)} events records, expected {len(expected_events)}: "
        + "; ".join(f"{k} {v[:20]}" for k, v in mismatches.items())
    )
    assert not app.runtime.parked()
    assert not app.runtime.status().backlog  # every mailbox is empty

    total = done - started
    print(
        f"\nsmoke: {N_COMMANDS} source commands over {N_IDS} ids -> {invocations} invocations "
        f"({stats['batches']} batches, {stats['requests']} requests, {stats['delayed']} delayed "
        f"incl. cancelled), {len(events)} events; fed in {fed - started:.2f}s, quiescent after "
        f"{total:.2f}s: {N_COMMANDS / total:.0f} source commands/s, {invocations / total:.0f} "
        f"invocations/s"
    )
