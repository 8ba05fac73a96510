"""`baton new NAME`: the scaffold runs with `baton run` at once, and its own test passes."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from baton.cli import cli
from tests.cli.baton_process import baton_run, free_playground_ports, greet_through_playground

BATON = [sys.executable, "-m", "baton.cli"]


def test_new_writes_an_application(tmp_path):
    result = CliRunner().invoke(cli, ["new", "demo", "-C", str(tmp_path)])
    assert result.exit_code == 0, result.output
    files = {p.name for p in (tmp_path / "demo").iterdir()}
    assert {"module.yaml", "functions.py", "test_functions.py", "pyproject.toml", "README.md"} <= files
    again = CliRunner().invoke(cli, ["new", "demo", "-C", str(tmp_path)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_new_refuses_a_name_that_is_no_namespace(tmp_path):
    result = CliRunner().invoke(cli, ["new", "My App", "-C", str(tmp_path)])
    assert result.exit_code == 2 and "lower-case" in result.output


async def test_new_then_baton_run_serves_the_functions(tmp_path):
    subprocess.run([*BATON, "new", "demo"], cwd=tmp_path, check=True, capture_output=True)
    app = tmp_path / "demo"
    free_playground_ports(app / "module.yaml")  # the only change: no clash with a running app
    async with baton_run([*BATON, "run", "--admin-port", "0"], cwd=app) as listeners:
        assert "functions functions:functions" in listeners
        assert await greet_through_playground(listeners, "demo", "Bob") == "Hello Bob! (visit 1)"
        assert await greet_through_playground(listeners, "demo", "Bob") == "Hello Bob! (visit 2)"


def test_the_scaffolds_own_test_passes(tmp_path):
    subprocess.run([*BATON, "new", "demo"], cwd=tmp_path, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "demo", capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
