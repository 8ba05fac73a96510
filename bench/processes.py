"""The processes around a benchmark: free ports, their CPU time, the SDK counter function server,
and the event loop each bench process runs on."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(*processes: psutil.Process) -> float:
    """User + system CPU seconds the processes have used so far (this one: `psutil.Process()`)."""
    total = 0.0
    for process in processes:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def use_uvloop() -> None:
    """Run asyncio on uvloop when it is installed, as `baton run` does: the figures are those of
    a deployment's event loop."""
    try:
        import uvloop
    except ImportError:  # uvloop is optional (e.g. Windows)
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


@dataclass(frozen=True)
class CounterServer:
    """A running `bench.counter_server` process."""

    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/statefun"


@contextmanager
def counter_server(kind: str = "baton") -> Iterator[CounterServer]:
    """The SDK counter function in its own process, served by `baton serve`'s server (or
    `kind="aiohttp"`: a plain aiohttp handler), from when it accepts connections until the block
    ends.

    Waiting blocks the caller, also an event loop: a server starts before anything is measured.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.counter_server", "--port", str(port), "--server", kind]
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the {kind} function server did not start") from None
                time.sleep(0.05)
        yield CounterServer(process, port)
    finally:
        process.terminate()
        process.wait()
