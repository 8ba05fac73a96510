"""baton installed as a user installs it: a built wheel, plain pip, a fresh venv (no uv).

Two projects: an empty one, and a function project as StateFun users have them today (with
`apache-flink-statefun` 3.3.0, which pins protobuf<4). In both, `baton new` + `baton run` must
serve an SDK application through the playground ingress and egress.

Slow-ish (a wheel build and two pip installs, from pip's local cache when warm): the wheel is
built once per session, and everything lives in this one module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.baton_process import baton_run, free_playground_ports, greet_through_playground
from tests.conftest import ROOT


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([*_uv(), "build", "--wheel", "--quiet", "-o", str(out)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    [built] = out.glob("baton-*.whl")
    return built


def _venv(where: Path) -> Path:
    """A new venv with pip (as `python -m venv` makes it); its bin directory."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    return where / "bin"


def _pip(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([str(bin_dir / "pip"), "install", *args], capture_output=True, text=True,
                          timeout=600, env=env)


async def _run_scaffolded_app(bin_dir: Path, where: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    subprocess.run([str(bin_dir / "baton"), "new", "shop"], cwd=where, check=True, env=env,
                   capture_output=True, timeout=60)
    app = where / "shop"
    free_playground_ports(app / "module.yaml")
    command = [str(bin_dir / "baton"), "run", "--admin-port", "0"]
    async with baton_run(command, cwd=app, env=env) as listeners:
        assert await greet_through_playground(listeners, "shop", "Ada") == "Hello Ada! (visit 1)"


def _versions(bin_dir: Path) -> str:
    code = ("import google.protobuf, statefun.request_reply_pb2, importlib.metadata as m; "
            "print(google.protobuf.__version__, m.version('flink-statefun'))")
    return subprocess.run([str(bin_dir / "python"), "-c", code], capture_output=True, text=True,
                          check=True, timeout=60).stdout


async def test_wheel_installs_with_pip_into_a_fresh_venv(wheel, tmp_path):
    bin_dir = _venv(tmp_path / "venv")
    installed = _pip(bin_dir, str(wheel))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    protobuf, sdk = _versions(bin_dir).split()
    assert protobuf.startswith("6.") and sdk.startswith("3.5")
    await _run_scaffolded_app(bin_dir, tmp_path)


async def test_wheel_installs_beside_apache_flink_statefun_3_3(wheel, tmp_path):
    """A user's function project as it is today: the official SDK 3.3.0 and protobuf 3."""
    bin_dir = _venv(tmp_path / "venv")
    before = _pip(bin_dir, "apache-flink-statefun==3.3.0")
    assert before.returncode == 0, before.stdout + before.stderr
    installed = _pip(bin_dir, str(wheel))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # pip keeps 3.3.0's metadata and says its protobuf pin is not met; the `statefun` module is
    # now flink-statefun's (the same code, generated for protobuf 6). README: Install.
    assert "apache-flink-statefun 3.3.0 requires protobuf" in installed.stdout + installed.stderr
    protobuf, _ = _versions(bin_dir).split()
    assert protobuf.startswith("6.")
    await _run_scaffolded_app(bin_dir, tmp_path)
