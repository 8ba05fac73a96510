"""`baton run` as a user runs it: listeners printed, clear module errors, clean stop on signals."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest

from tests.conftest import ROOT


async def _baton(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton.cli", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_run_prints_listeners_and_stops_cleanly(tmp_path, stop_signal):
    module = tmp_path / "module.yaml"
    module.write_text(
        "kind: io.statefun.endpoints.v2/http\n"
        "spec: {functions: example/*, urlPathTemplate: 'http://127.0.0.1:9/statefun'}\n"
        "---\n"
        "kind: io.statefun.playground.v1/ingress\n"
        "spec: {port: 0}\n"
    )
    proc = await _baton("run", str(module), "--admin-port", "0", "--data-dir", str(tmp_path / "d"))
    assert proc.stdout is not None
    lines = [(await asyncio.wait_for(proc.stdout.readline(), 30)).decode() for _ in range(3)]
    assert "1 endpoint(s)" in lines[0] and "baton.db" in lines[0]
    assert "ingress io.statefun.playground/ingress" in lines[1] and "http://127.0.0.1:" in lines[1]
    admin = lines[2].split()[-1]
    assert lines[2].startswith("  admin API")
    async with aiohttp.ClientSession() as session, session.get(f"{admin}/health") as r:
        assert (await r.json())["status"] == "ok"
    proc.send_signal(stop_signal)
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert b"stopping" in await proc.stdout.read()


async def test_run_reports_a_broken_module_with_file_and_line(tmp_path):
    module = tmp_path / "module.yaml"
    module.write_text(
        "kind: io.statefun.endpoints.v2/http\n"
        "spec:\n"
        "  functions: example/*\n"
        "  urlPathTemplate: http://127.0.0.1:9/statefun\n"
        "  maxNumBatchRequests: lots\n"
    )
    proc = await _baton("run", str(module), "--admin-port", "0")
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert f"{module}:5" in err.decode() and "maxNumBatchRequests" in err.decode()


async def test_run_refuses_a_data_dir_in_use(tmp_path):
    from baton.runtime.sqlite_store import SqliteStore

    module = tmp_path / "module.yaml"
    module.write_text(
        "kind: io.statefun.endpoints.v2/http\n"
        "spec: {functions: example/*, urlPathTemplate: 'http://127.0.0.1:9/statefun'}\n"
    )
    holder = SqliteStore(tmp_path / "d")
    try:
        proc = await _baton("run", str(module), "--admin-port", "0", "--data-dir", str(tmp_path / "d"))
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 1 and "in use by another baton" in err.decode()
    finally:
        holder.close()


async def test_run_reports_a_broken_workflow_definition_with_file_and_line(tmp_path):
    module = tmp_path / "module.yaml"
    module.write_text(
        "kind: io.statefun.endpoints.v2/http\n"
        "spec: {functions: example/*, urlPathTemplate: 'http://127.0.0.1:9/statefun'}\n"
        "---\n"
        "kind: baton.workflows.v1/workflow\n"
        "spec:\n"
        "  id: example/flow\n"
        "  definition:\n"
        "    StartAt: First\n"
        "    States:\n"
        "      First: {Type: Pass, Next: Nowhere}\n"
    )
    proc = await _baton("run", str(module), "--admin-port", "0")
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1, err
    assert f"{module}:10" in err.decode() and "Nowhere" in err.decode()
