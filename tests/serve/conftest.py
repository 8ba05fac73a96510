"""Helpers for the serve tests: free ports, CLI subprocesses, waiting on their output."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port as free_port  # imported from here by this directory's tests

ROOT = Path(__file__).resolve().parents[2]




def wait_for_output(process: subprocess.Popen, log: Path, pattern: str, timeout: float = 30.0):
    """The first match of `pattern` in the process's output, failing if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text()
        match = re.search(pattern, text)
        if match:
            return match
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before printing:\n{text}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} within {timeout}s:\n{text}")
        time.sleep(0.02)


@pytest.fixture
def start_cli(tmp_path):
    """Start `python -m baton.cli ARGS...` in the project root; stop it (SIGTERM) afterwards."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"out-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "baton.cli", *args],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
