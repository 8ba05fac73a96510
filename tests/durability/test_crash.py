"""Crash test: the smoke workload while `baton run` is SIGKILLed at random moments and restarted.

Invariant (statefun-reference must-have 18): every acknowledged message counted exactly once,
no state effect applied twice, every egress record delivered at least once. Without idempotency
keys, a message whose answer was cut off is ambiguous: it counts at most once.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import ROOT, eventually, free_port
from tests.smoke.commands import (
    COMMANDS_TYPE,
    EVENTS_TOPIC,
    FUNCTION_TYPE,
    expected_counts,
    expected_egress_payloads,
    generate,
)
from tests.smoke.driver import count_mismatches, drain, egress_mismatches, verify, wait_quiescent_admin

N_IDS = 128
COMMANDS = 20_000
KILLS = 3




async def _start_function_server() -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.smoke.server", "--port", "0",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    return proc, line.decode().split("listening on ", 1)[1].strip()


class BatonProcess:
    """`baton run` as a child process on fixed ports, so a restart keeps the same addresses."""

    def __init__(self, module: Path, data_dir: Path, admin_port: int) -> None:
        self.module, self.data_dir, self.admin_port = module, data_dir, admin_port
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "baton.cli", "run", str(self.module),
            "--data-dir", str(self.data_dir), "--admin-port", str(self.admin_port),
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:  # ready once the admin API answers (ingress and egress start before it)
            try:
                async with session.get(f"http://127.0.0.1:{self.admin_port}/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"baton run did not start (exit {self.proc.returncode})")
            await asyncio.sleep(0.02)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 20)


async def _kill_mid_stream(
    baton: BatonProcess, feeding: asyncio.Task[None], answered: Callable[[], int], kill_at: int
) -> None:
    """SIGKILL baton once `answered()` requests reached `kill_at` (a point of the stream, not a
    wall-clock moment, so a faster or slower machine crashes mid-stream alike); the feed stops."""
    await eventually(lambda: answered() >= kill_at or feeding.done(), 120)
    await baton.kill()
    await feeding


async def _feed_until_killed(
    session: aiohttp.ClientSession,
    ingress: str,
    pending: deque[tuple[int, dict]],
    acked: set[int],
    ambiguous: set[int] | None = None,
    in_flight: int = 32,
) -> None:
    """Send pending commands until the connection fails.

    With `ambiguous` None every command carries an idempotency key, and one whose
    acknowledgement is lost goes back to `pending`. Otherwise no key is sent: a command whose
    connection was cut after sending is ambiguous (maybe delivered) and never sent again.
    """

    async def worker() -> None:
        while pending:
            index, source = pending.popleft()
            headers = {"Content-Type": f"application/vnd.{COMMANDS_TYPE}"}
            if ambiguous is None:
                headers["Idempotency-Key"] = f"cmd-{index}"  # a retry is never delivered twice
            try:
                async with session.put(
                    f"{ingress}/{FUNCTION_TYPE}/{source['target']}",
                    data=json.dumps(source["commands"]),
                    headers=headers,
                ) as response:
                    await response.read()
                    assert response.status in (200, 202), response.status
                    acked.add(index)
            except (TimeoutError, aiohttp.ClientError) as error:
                if ambiguous is None or isinstance(error, aiohttp.ClientConnectorError):
                    pending.appendleft((index, source))  # not delivered: send it again later
                else:
                    ambiguous.add(index)
                return

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def _set_up(tmp_path: Path) -> tuple[asyncio.subprocess.Process, str, str, int, BatonProcess]:
    """The smoke function server and a `baton run` for it (not started): (function server,
    ingress URL, egress URL, admin port, baton)."""
    function_server, function_url = await _start_function_server()
    ingress_port, egress_port, admin_port = free_port(), free_port(), free_port()
    module = tmp_path / "module.yaml"
    module.write_text(f"""
kind: io.statefun.endpoints.v2/http
spec:
  functions: statefun.smoke.e2e/*
  urlPathTemplate: {function_url}
  maxNumBatchRequests: 10000
---
kind: io.statefun.playground.v1/ingress
spec:
  port: {ingress_port}
---
kind: io.statefun.playground.v1/egress
spec:
  port: {egress_port}
  topics: [{EVENTS_TOPIC}, verification]
""")
    ingress, egress = f"http://127.0.0.1:{ingress_port}", f"http://127.0.0.1:{egress_port}"
    return function_server, ingress, egress, admin_port, BatonProcess(module, tmp_path / "data", admin_port)


@pytest.mark.timeout(600)
async def test_smoke_workload_survives_repeated_sigkill(tmp_path):
    rng = random.Random(20261126)
    commands = generate(seed=7, count=COMMANDS, n_ids=N_IDS)
    function_server, ingress, egress, admin_port, baton = await _set_up(tmp_path)
    pending = deque(enumerate(commands))
    acked: set[int] = set()
    kills = 0
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            while kills < KILLS:
                await baton.start(session)
                feeding = asyncio.create_task(_feed_until_killed(session, ingress, pending, acked))
                # The scenario: a crash at a random point of each share of the stream.
                kill_at = int(COMMANDS * (kills + rng.uniform(0.2, 0.8)) / (KILLS + 1))
                await _kill_mid_stream(baton, feeding, lambda: len(acked), kill_at)
                kills += 1
                print(f"kill {kills}: {len(acked)} of {COMMANDS} commands acknowledged")
            assert pending, "the workload should outlast the crashes; raise COMMANDS"

            await baton.start(session)
            await _feed_until_killed(session, ingress, pending, acked)
            assert not pending and len(acked) == COMMANDS
            await wait_quiescent_admin(session, f"http://127.0.0.1:{admin_port}", timeout=120)

            actual = await verify(session, ingress, egress, N_IDS)
            over, under = count_mismatches(actual, expected_counts(commands, N_IDS))
            assert not over, f"counted twice after a crash: {over}"
            assert not under, f"lost after a crash: {under}"

            records = await drain(session, egress, EVENTS_TOPIC)
            problems = egress_mismatches(records, expected_egress_payloads(commands))
            assert not problems["missing"] and not problems["unexpected"], problems
            print(
                f"{kills} SIGKILLs, {COMMANDS} commands, {len(records)} egress records, "
                f"{len(problems['duplicated'])} duplicated by the crashes"
            )
        finally:
            await baton.stop()
            function_server.terminate()
            await function_server.wait()
    assert os.path.exists(tmp_path / "data" / "baton.db")


@pytest.mark.timeout(300)
async def test_without_keys_every_count_is_within_acknowledged_and_ambiguous(tmp_path):
    rng = random.Random(20261130)
    n_ids, count = 64, 2_500
    commands = generate(seed=11, count=count, n_ids=n_ids)
    function_server, ingress, egress, admin_port, baton = await _set_up(tmp_path)
    pending = deque(enumerate(commands))
    acked: set[int] = set()
    ambiguous: set[int] = set()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        # aiohttp >= 3.9 re-sends a request on its own when a kept-alive connection drops:
        # switched off, so a cut connection surfaces here and is counted as ambiguous.
        session._retry_connection = False
        try:
            # The scenario: two crashes at random points of the stream.
            for low_share, high_share in ((0.1, 0.3), (0.45, 0.7)):
                kill_at = int(count * rng.uniform(low_share, high_share))
                await baton.start(session)
                feeding = asyncio.create_task(
                    _feed_until_killed(session, ingress, pending, acked, ambiguous)
                )
                await _kill_mid_stream(baton, feeding, lambda: len(acked) + len(ambiguous), kill_at)
            assert pending, "the workload should outlast the crashes; raise the count"
            await baton.start(session)
            await _feed_until_killed(session, ingress, pending, acked, ambiguous)
            assert not pending and len(acked) + len(ambiguous) == count
            await wait_quiescent_admin(session, f"http://127.0.0.1:{admin_port}", timeout=120)
            actual = await verify(session, ingress, egress, n_ids)
        finally:
            await baton.stop()
            function_server.terminate()
            await function_server.wait()
    low = expected_counts([commands[i] for i in acked], n_ids)
    slack = expected_counts([commands[i] for i in ambiguous], n_ids)
    outside = {
        i: (actual.get(i, 0), low[i], low[i] + slack[i])
        for i in low
        if not low[i] <= actual.get(i, 0) <= low[i] + slack[i]
    }
    print(f"{len(acked)} acknowledged, {len(ambiguous)} ambiguous (connection cut by SIGKILL)")
    assert not outside, f"counts outside [acknowledged, acknowledged + ambiguous]: {outside}"
