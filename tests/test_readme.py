"""The README is true: its module documents load, its SQL runs against a real data dir, every
command it names exists, and its walkthroughs run as written (ports made free, `uv run` and
`pip install` lines aside). Issue 11, item 3."""

from __future__ import annotations

import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from baton.cli import cli
from baton.module import load_module_text
from baton.runtime.sqlite_store import SqliteStore
from baton.workflows.module_kind import workflows_of
from tests.cli.baton_process import baton_run, free_playground_ports
from tests.conftest import ROOT, free_port

README = (ROOT / "README.md").read_text()
BATON = [sys.executable, "-m", "baton.cli"]
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(lang: str, under: str | None = None) -> list[str]:
    """The code blocks of a language, optionally only those of one `## ` section."""
    text = README
    if under is not None:
        start = README.index(f"## {under}\n")
        end = README.find("\n## ", start + 1)
        text = README[start: end if end > 0 else None]
    return [m.group(2) for m in _BLOCK.finditer(text) if m.group(1) == lang]


def test_the_first_code_block_is_the_two_make_commands():
    first = _BLOCK.search(README)
    assert first is not None
    assert [line.split()[:2] for line in first.group(2).splitlines()] == [["make", "example"], ["make", "test"]]


@pytest.mark.parametrize("text", [b for b in blocks("yaml") if "kind:" in b])
def test_every_module_document_loads(text):
    module = load_module_text(text, "README.md")
    workflows_of(module)  # definitions checked (a workflow snippet must be a valid one)


def test_the_sql_runs_against_a_data_dir(tmp_path):
    SqliteStore(tmp_path).close()
    [sql] = blocks("sql")
    with sqlite3.connect(tmp_path / "baton.db") as db:
        for statement in filter(str.strip, re.sub(r"--.*", "", sql).split(";")):
            db.execute(statement).fetchall()


def test_every_baton_command_named_exists():
    code = re.findall(r"`([^`\n]+)`", README) + [b for lang in ("bash", "python") for b in blocks(lang)]
    # Root options before the command, `--log-format json` included (an option with a value).
    pattern = r"(?:^|\s|&&\s)baton (?:\[[^\]]*\] |--log-format \S+ |-(?!-log-format)\S+ )*([a-z][a-z-]+)(?: ([a-z][a-z-]+))?"
    named = {found for text in code for found in re.findall(pattern, text, re.M)}
    assert len(named) > 15
    for command, sub in named:
        assert command in cli.commands, f"README names `baton {command}`"
        group = cli.commands[command]
        if sub and hasattr(group, "commands"):
            assert sub in group.commands, f"README names `baton {command} {sub}`"




def _sh(line: str, cwd: Path, env: dict[str, str], ports: dict[str, str], *, err: bool = False) -> str:
    for old, new in ports.items():
        line = line.replace(old, new)
    done = subprocess.run(line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
    return done.stdout + (done.stderr if err else "")


async def test_start_an_application_then_lambda_on_moto(tmp_path):
    """`## Start an application`, then `## Functions on AWS Lambda` in the same project."""
    start, calls = blocks("bash", "Start an application")
    assert start.strip() == "baton new demo && cd demo && baton run"
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    _sh("baton new demo", tmp_path, env, {})
    app = tmp_path / "demo"
    free_playground_ports(app / "module.yaml")
    async with baton_run([*BATON, "run", "--admin-port", "0"], cwd=app) as listeners:
        ports = {
            "localhost:8090": listeners["ingress io.statefun.playground/ingress"].removeprefix("http://"),
            "localhost:8091": listeners["egress io.statefun.playground/egress"].removeprefix("http://"),
        }
        env["BATON_ADMIN"] = listeners["admin API"]
        put, get, state = calls.strip().splitlines()
        _sh(put, app, env, ports)
        assert _sh(get + "?wait=20", app, env, ports) == "Hello Bob! (visit 1)"
        shown = _sh(state, app, env, ports)
        assert "visits" in shown and "1" in shown.split("visits", 1)[1]

    [app_py] = blocks("python", "Functions on AWS Lambda")
    (app / "app.py").write_text(app_py)
    moto_install, moto_server, export, deploy = blocks("bash", "Functions on AWS Lambda")[0].strip().splitlines()
    assert moto_install.startswith("pip install") and moto_server.endswith("&")
    moto_port = str(free_port())
    server = subprocess.Popen(shlex.split(moto_server.rstrip("& ").replace("5000", moto_port)), cwd=app,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for assignment in shlex.split(export)[1:]:
            name, _, value = assignment.partition("=")
            env[name] = value.replace("5000", moto_port)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(name, None)
        _wait_for_port(int(moto_port))
        out = _sh(deploy, app, env, {}, err=True)
        assert "found in the package" in out or "imported from the package" in out, out
        endpoint = (app / "lambda.yaml").read_text()
        assert "demo/*" in endpoint and load_module_text(endpoint, "lambda.yaml").endpoints
    finally:
        server.terminate()
        server.wait(30)


def _wait_for_port(port: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def test_run_an_application_as_written(tmp_path):
    [command] = [b.strip() for b in blocks("bash", "Run an application")]
    assert command == "uv run baton run module.yaml --serve functions.app:functions --data-dir .baton"
    module = tmp_path / "module.yaml"
    module.write_text((ROOT / "module.yaml").read_text())
    free_playground_ports(module)
    args = shlex.split(command)[3:]  # after `uv run baton`
    args[args.index("module.yaml")] = str(module)
    args[args.index(".baton")] = str(tmp_path / "data")
    async with baton_run([*BATON, *args, "--admin-port", "0"], cwd=ROOT) as listeners:
        shown = [line.split()[0:2] for line in blocks("", "Run an application")[0].splitlines()[1:]]
        assert [" ".join(c.split()[:2]) for c in listeners] == [" ".join(words) for words in shown]
