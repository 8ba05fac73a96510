"""`python -m functions`: the generated stream end to end, in-process and as a user runs it."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import sys

import aiohttp
from rich.console import Console

from functions.demo import Config, print_report, run
from functions.stream import generate
from functions.summary import Outcomes, fulfillment_outcome, summarize
from tests.conftest import ROOT

DEADLINE_MS = 1500  # the demo runs in real time, as users run it: a short deadline keeps it quick


def free_ports_config(tmp_path, **overrides) -> Config:
    config = Config(orders=30, seed=11, deadline_ms=DEADLINE_MS, function_port=0, ingress_port=0,
                    egress_port=0, admin_port=0, data_dir=tmp_path / "data", timeout_s=30.0)
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


async def test_the_generated_stream_ends_as_planned(tmp_path):
    report = await run(free_ports_config(tmp_path), Console(file=io.StringIO()))
    stream, outcomes = report.stream, report.outcomes
    assert report.problems == []

    planned_alerts = {o.order_id for o in stream.orders if o.expected.alerted}
    assert planned_alerts and set(outcomes.alerted) == planned_alerts
    assert set(outcomes.completed) == {o.order_id for o in stream.orders} - planned_alerts
    assert {i: fulfillment_outcome(r) for i, r in outcomes.fulfillment.items()} == {
        o.order_id: o.expected.fulfillment for o in stream.orders if not o.expected.alerted
    }
    by_scenario = {o.scenario for o in stream.orders}
    assert {"missing-line", "missing-header", "declined", "fraud", "out-of-stock"} <= by_scenario
    assert len(outcomes.ignored) == 3 and all(r["reason"].startswith("late event") for r in outcomes.ignored)
    assert report.state_cleared == 30 and report.state_problems == []
    assert report.messages > len(stream.events)

    # The summary is what its records say, and the printed summary shows it.
    summary = summarize(Outcomes.of(outcomes.records))
    assert report.summary == summary
    topics = [topic for topic, _ in outcomes.records]
    assert summary.completed == topics.count("orders-completed")
    assert summary.alerted == topics.count("orders-incomplete")
    assert sum(summary.fulfillment.values()) == topics.count("orders-fulfillment")
    assert summary.ignored == topics.count("orders-ignored")
    printed = io.StringIO()
    print_report(Console(file=printed, width=120), report)
    text = printed.getvalue()
    assert re.search(rf"  completed\s+{summary.completed}\s", text)
    assert re.search(rf"  incomplete, alerted\s+{summary.alerted}\s", text)
    assert re.search(rf"  fulfilled\s+{summary.fulfilled}\s", text)
    assert re.search(rf"  PaymentDeclined\s+{summary.fulfillment['PaymentDeclined']}\s", text)
    assert "Every order reconciles" in text


async def test_python_m_functions_runs_reconciles_and_stays_up_until_ctrl_c(tmp_path):
    orders = 12
    stream = generate(orders, seed=7)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "functions", "--free-ports", "--orders", str(orders),
        "--deadline-ms", str(DEADLINE_MS), "--data-dir", str(tmp_path / "data"), "--keep-running",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines = []
    try:
        while not lines or "Running until Ctrl-C" not in lines[-1]:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, f"exited early: {''.join(lines)}{(await proc.stderr.read()).decode()}"
            lines.append(line.decode())
        text = "".join(lines)
        assert "Every order reconciles" in text
        completed = stream.expected_count(alerted=False)
        assert re.search(rf"  completed\s+{completed}\s", text)
        assert re.search(rf"  incomplete, alerted\s+{orders - completed}\s", text)
        admin = re.search(r"admin API\s+(http://127\.0\.0\.1:\d+)", text).group(1)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{admin}/state/orders/order/o-0001") as response:
                assert set((await response.json())["state"]) == {"done"}
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0


async def test_the_sender_sends_each_event_with_its_idempotency_key(tmp_path):
    from baton.module.specs import TypeName
    from functions.demo import Example

    example = Example(free_ports_config(tmp_path, deadline_ms=600_000))  # no timer fires meanwhile
    await example.start()
    try:
        events = generate(30, seed=3).events[:5]
        assert await example.send(events) == 5
        assert await example.send(events) == 5  # as a retry would: acknowledged, not delivered
        assert example.runtime is not None
        assert example.runtime.metrics.of(TypeName("orders", "order")).messages_in == 5
    finally:
        await example.stop()
