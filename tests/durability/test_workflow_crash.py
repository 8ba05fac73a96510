"""A workflow interrupted by SIGKILL mid-execution completes after restart, each effect once."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

import aiohttp
import pytest

from tests.conftest import ROOT, free_port
from tests.durability.test_crash import BatonProcess
from tests.workflows import saga

ORDERS = 20


async def _start_task_server(ledger: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.workflows.saga", "--port", "0", "--ledger", ledger,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if match := re.search(r"http://127\.0\.0\.1:(\d+)", line):
            return proc, f"http://127.0.0.1:{match.group(1)}/statefun"


async def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def _steps(ledger: str, step: str) -> int:
    return sum(1 for _, s in saga.ledger(ledger)[0] if s == step)


@pytest.mark.timeout(300)
async def test_workflow_survives_sigkill_mid_execution(tmp_path):
    ledger = str(tmp_path / "ledger.db")
    tasks, tasks_url = await _start_task_server(ledger)
    ingress_port, egress_port, admin_port = free_port(), free_port(), free_port()
    module = tmp_path / "module.yaml"
    module.write_text(f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: saga/*, urlPathTemplate: "{tasks_url}"}}
---
kind: io.statefun.playground.v1/ingress
spec: {{port: {ingress_port}}}
---
kind: io.statefun.playground.v1/egress
spec: {{port: {egress_port}, topics: [results]}}
""" + saga.DEFINITION)
    baton = BatonProcess(module, tmp_path / "data", admin_port)
    ingress, egress = f"http://127.0.0.1:{ingress_port}", f"http://127.0.0.1:{egress_port}"
    async with aiohttp.ClientSession() as session:
        try:
            await baton.start(session)
            for n in range(ORDERS):
                order = {"id": f"o{n}", "amount": n, "pause": 1}
                async with session.put(f"{ingress}/saga/order/o{n}", data=json.dumps(order),
                                       headers={"Content-Type": "application/vnd.saga/Order"}) as r:
                    assert r.status == 202
            # Kill while every execution sits in its 1 s Wait (charged, not yet reserved) ...
            await _wait_for(lambda: _steps(ledger, "charge") == ORDERS)
            assert _steps(ledger, "reserve") < ORDERS
            await baton.kill()
            await baton.start(session)
            # ... and again once some have moved on to reserve/ship.
            await _wait_for(lambda: _steps(ledger, "reserve") > 0)
            await baton.kill()
            await baton.start(session)

            results: dict[str, dict] = {}
            deadline = time.monotonic() + 60
            while len(results) < ORDERS:
                assert time.monotonic() < deadline, f"only {sorted(results)} finished"
                async with session.get(f"{egress}/results", params={"wait": "5"}) as r:
                    if r.status == 200:
                        result = json.loads(await r.text())
                        results[result["execution"]] = result
        finally:
            await baton.stop()
            tasks.terminate()
            await tasks.wait()

    assert {r["status"] for r in results.values()} == {"SUCCEEDED"}
    effects, calls = saga.ledger(ledger)
    for n in range(ORDERS):
        assert [s for e, s in effects if e == f"o{n}"] == ["charge", "reserve", "ship"]
    repeated = len(calls) - len(effects)
    print(f"{ORDERS} executions, 2 SIGKILLs: every step's effect once; {repeated} repeated task calls")
