"""Drive the smoke workload against a runtime by URL only (works across processes).

Everything here talks HTTP to the playground ingress/egress and the admin API, so a crash test
can point it at a runtime subprocess, SIGKILL it, restart it and carry on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterable

import aiohttp

from .commands import COMMANDS_TYPE, FUNCTION_TYPE, VERIFICATION_TOPIC, verify_command

CONTENT_TYPE = f"application/vnd.{COMMANDS_TYPE}"


async def send_commands(
    session: aiohttp.ClientSession, ingress_url: str, target: str, commands: list[dict]
) -> int:
    """PUT one command list to `command-interpreter-fn/<target>`; returns the HTTP status."""
    async with session.put(
        f"{ingress_url}/{FUNCTION_TYPE}/{target}",
        data=json.dumps(commands),
        headers={"Content-Type": CONTENT_TYPE},
    ) as response:
        await response.read()
        return response.status


async def feed(
    session: aiohttp.ClientSession,
    ingress_url: str,
    source_commands: Iterable[dict],
    in_flight: int = 64,
) -> int:
    """Send every source command, `in_flight` at a time; fails on any non-202. Returns the count."""
    pending = iter(source_commands)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for source in pending:
            status = await send_commands(session, ingress_url, source["target"], source["commands"])
            if status != 202:
                raise AssertionError(f"ingress answered {status} for target {source['target']}")
            sent += 1

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return sent


async def runtime_status(session: aiohttp.ClientSession, admin_url: str) -> dict:
    """`queued`, `inflight_batches`, `delayed_pending` and `parked` from the admin API."""
    async with session.get(f"{admin_url}/metrics.json") as response:
        response.raise_for_status()
        return await response.json()


async def wait_quiescent_admin(
    session: aiohttp.ClientSession, admin_url: str, timeout: float = 120.0
) -> dict:
    """Until nothing is queued and no delayed message is pending (via the admin API)."""
    deadline = time.monotonic() + timeout
    while True:
        status = await runtime_status(session, admin_url)
        if status["parked"]:
            raise AssertionError(f"addresses were parked: {status}")
        if status["queued"] == 0 and status["delayed_pending"] == 0:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"not quiescent after {timeout}s: {status}")
        await asyncio.sleep(0.05)


async def take(
    session: aiohttp.ClientSession, egress_url: str, topic: str, wait: float = 0.0
) -> str | None:
    """One playground egress record, or None when the topic stayed empty for `wait` seconds."""
    async with session.get(f"{egress_url}/{topic}", params={"wait": str(wait)}) as response:
        if response.status == 404:
            return None
        if response.status != 200:
            raise AssertionError(f"egress answered {response.status}: {await response.text()}")
        return await response.text()


async def drain(session: aiohttp.ClientSession, egress_url: str, topic: str) -> list[str]:
    """Take every record currently in a topic."""
    records = []
    while (record := await take(session, egress_url, topic)) is not None:
        records.append(record)
    return records


async def verify(
    session: aiohttp.ClientSession,
    ingress_url: str,
    egress_url: str,
    n_ids: int,
    timeout: float = 30.0,
) -> dict[str, int]:
    """Send `verify` to ids 0..n_ids-1 and collect `{id: actual}` from the verification topic."""
    for i in range(n_ids):
        status = await send_commands(session, ingress_url, str(i), [verify_command()])
        if status != 202:
            raise AssertionError(f"ingress answered {status} for verify of id {i}")
    reports: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while len(reports) < n_ids:
        remaining = deadline - time.monotonic()
        record = await take(session, egress_url, VERIFICATION_TOPIC, wait=max(remaining, 0))
        if record is None:
            missing = sorted(set(map(str, range(n_ids))) - set(reports), key=int)
            raise AssertionError(f"{len(reports)} of {n_ids} ids reported; missing: {missing}")
        report = json.loads(record)
        if report["id"] in reports:
            raise AssertionError(f"id {report['id']} reported twice")
        reports[report["id"]] = report["actual"]
    return reports


def count_mismatches(
    actual: dict[str, int], expected: dict[str, int]
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """(over, under): ids whose actual count is above / below expected, as (actual, expected)."""
    over, under = {}, {}
    for i, want in expected.items():
        got = actual.get(i, 0)
        if got > want:
            over[i] = (got, want)
        elif got < want:
            under[i] = (got, want)
    return over, under


def egress_mismatches(records: list[str], expected: list[str]) -> dict[str, list]:
    """Missing, unexpected and duplicated payloads (empty lists when exactly once)."""
    got, want = Counter(records), Counter(expected)
    return {
        "missing": sorted(want - got),
        "unexpected": sorted(got - want),
        "duplicated": sorted(p for p, n in got.items() if n > 1),
    }
