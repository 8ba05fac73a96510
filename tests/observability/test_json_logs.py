"""`baton --log-format json run`: one JSON line per significant event; OTEL_* turns tracing on."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import aiohttp

from tests.conftest import ROOT


async def test_json_log_lines_name_each_event_and_otel_variables_enable_traces(tmp_path):
    module = tmp_path / "module.yaml"
    module.write_text(
        "kind: io.statefun.endpoints.v2/http\n"  # nothing listens on port 9: calls fail, the address parks
        "spec: {functions: example/*, urlPathTemplate: 'http://127.0.0.1:9/statefun', transport: {call: 200ms}}\n"
        "---\n"
        "kind: io.statefun.playground.v1/ingress\n"
        "spec: {port: 0}\n"
    )
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "baton-test"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton.cli", "--log-format", "json", "run", str(module), "--admin-port", "0",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines = [(await asyncio.wait_for(proc.stdout.readline(), 30)).decode() for _ in range(3)]
    ingress, admin = lines[1].split()[-1], lines[2].split()[-1]
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{ingress}/example/x/1", data="{}",
                               headers={"Content-Type": "application/vnd.example/Json"}) as r:
            assert r.status == 202
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            async with session.get(f"{admin}/parked") as r:
                if await r.json():
                    break
            assert asyncio.get_running_loop().time() < deadline, "the address never parked"
            await asyncio.sleep(0.05)
        async with session.post(f"{admin}/parked/example/x/1/resume") as r:
            assert r.status == 200
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()

    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    events = {r.get("event"): r for r in records}
    assert {"runtime_started", "call_retried", "address_parked", "address_resumed", "runtime_stopped"} <= set(events)
    parked = events["address_parked"]
    assert parked["address"] == "example/x/1" and parked["level"] == "warning"
    assert "127.0.0.1:9" in parked["reason"] and parked["backlog"] == 1
    assert "admin API" in json.loads(events["runtime_started"]["listeners"])
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    # The console exporter wrote the batches' spans (tracing on through OTEL_TRACES_EXPORTER).
    assert '"name": "invoke example/x"' in out.decode()
    assert '"service.name": "baton-test"' in out.decode()
