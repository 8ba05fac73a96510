"""`baton run` as a user starts it (a subprocess), for tests that drive a scaffolded application."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp

_LISTENER = re.compile(r"^\s+(?P<component>.+?)\s+(?P<url>http://\S+)$")


def free_playground_ports(module: Path) -> None:
    """Rewrite a module.yaml's playground ports to 0, so a test never clashes with a running app."""
    text = re.sub(r"(?m)^(\s*port:\s*)\d+", r"\g<1>0", module.read_text())
    module.write_text(text)


@contextlib.asynccontextmanager
async def baton_run(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None,
                    stderr: list[str] | None = None) -> AsyncIterator[dict[str, str]]:
    """Start `command` (a `baton run ...`), yield {component: url} once it listens; stop it.

    `stderr`, when given, receives the process's stderr lines once it has stopped.
    """
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    listeners: dict[str, str] = {}
    try:
        while "admin API" not in listeners:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            if not line:
                raise AssertionError(f"baton run ended: {(await proc.stderr.read()).decode()}")
            match = _LISTENER.match(line.rstrip())
            if match:
                listeners[match["component"]] = match["url"]
        yield listeners
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        err = await asyncio.wait_for(proc.stderr.read(), 30)
        await asyncio.wait_for(proc.wait(), 30)
        if stderr is not None:
            stderr.extend(err.decode().splitlines())


async def greet_through_playground(listeners: dict[str, str], namespace: str, who: str) -> str:
    """PUT a `<namespace>/Greet` JSON message on the playground ingress; the greeting egressed."""
    ingress = listeners["ingress io.statefun.playground/ingress"]
    egress = listeners["egress io.statefun.playground/egress"]
    async with aiohttp.ClientSession() as http:
        async with http.put(
            f"{ingress}/{namespace}/greeter/{who}", data=json.dumps({"name": who}),
            headers={"Content-Type": f"application/vnd.{namespace}/Greet"},
        ) as response:
            assert response.status == 202, await response.text()
        async with http.get(f"{egress}/greetings?wait=20") as response:
            assert response.status == 200, await response.text()
            return await response.text()
