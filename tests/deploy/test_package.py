"""`baton deploy package` and the settings it reads: a reproducible zip, settings precedence."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zipfile
from pathlib import Path

import pytest

from baton.deploy.config import load_settings
from baton.deploy.errors import DeployError
from baton.deploy.package import python_platform
from tests.deploy.conftest import baton


def package(out: Path, *args: str):
    result = baton("deploy", "package", "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    return result


def test_zip_build_is_reproducible(project: Path, tmp_path: Path):
    first = package(tmp_path / "a.zip")
    # new timestamps, a bytecode cache and a fresh dependency install must not matter
    for path in (project / "demo_app").iterdir():
        os.utime(path, (1_700_000_000, 1_700_000_000))
    cache = project / "demo_app" / "__pycache__"
    cache.mkdir()
    (cache / "handler.cpython-311.pyc").write_bytes(b"\0" * 64)
    second = package(tmp_path / "b.zip")
    a, b = (tmp_path / "a.zip").read_bytes(), (tmp_path / "b.zip").read_bytes()
    assert a == b
    sha = base64.b64encode(hashlib.sha256(a).digest()).decode()
    assert f"CodeSha256: {sha}" in first.stdout and f"CodeSha256: {sha}" in second.stdout

    archive = zipfile.ZipFile(tmp_path / "a.zip")
    names = archive.namelist()
    assert names == sorted(names)
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in archive.infolist()} <= {0o100644, 0o100755}
    assert not [n for n in names if "__pycache__" in n or n.startswith(("bin/", ".lock"))]

    (project / "demo_app" / "handler.py").write_text("handler = None\n")
    package(tmp_path / "c.zip")
    assert (tmp_path / "c.zip").read_bytes() != a


def test_package_defaults_to_build_dir_and_ships_only_what_is_asked(project: Path):
    result = baton("deploy", "package", "--no-include-baton", "--handler",
                   "demo_app.plain.handler", "--requirement", "six==1.17.0")
    assert result.exit_code != 0
    assert "module `demo_app.plain` is not in the package" in result.stderr
    (project / "demo_app" / "plain.py").write_text("def handler(event, context):\n    return {}\n")
    result = baton("deploy", "package", "--no-include-baton", "--handler",
                   "demo_app.plain.handler", "--requirement", "six==1.17.0")
    assert result.exit_code == 0, result.output
    out = project / "build" / "lambda" / "demo-counter.zip"
    assert result.stdout.splitlines()[0] == str(out)
    names = zipfile.ZipFile(out).namelist()
    assert not [n for n in names if n.startswith("baton/")]
    assert "six.py" in names and "statefun/__init__.py" in names
    assert [n for n in names if re.fullmatch(r"protobuf-6\.[\d.]+\.dist-info/WHEEL", n)]


def test_dependencies_without_a_linux_wheel_are_refused(project: Path, tmp_path: Path):
    result = baton("deploy", "package", "-o", str(tmp_path / "x.zip"),
                   "--requirement", "baton-no-such-distribution-xyz==0.0.1")
    assert result.exit_code != 0
    assert "cannot install the dependencies for python3.12 on x86_64" in result.stderr
    assert "wheel for manylinux" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("architecture", "python", "expected"),
    [("x86_64", "3.12", "x86_64-manylinux_2_34"), ("arm64", "3.13", "aarch64-manylinux_2_34"),
     ("x86_64", "3.11", "x86_64-manylinux_2_17"), ("arm64", "3.10", "aarch64-manylinux_2_17")],
)
def test_python_platform_follows_the_runtime_os(architecture: str, python: str, expected: str):
    assert python_platform(architecture, python) == expected


def test_flags_win_over_pyproject_which_wins_over_defaults(project: Path):
    (project / "pyproject.toml").write_text("""\
[project]
name = "My Demo"

[tool.baton.lambda]
handler = "demo_app.handler.handler"
functions = "demo/*"
memory = 1024
architecture = "arm64"
s3_bucket = "from-pyproject"
source = ["demo_app"]
""")
    settings = load_settings({"memory": 2048, "region": None}, cwd=project / "demo_app")
    assert settings.name == "My-Demo"  # from [project] name, made a valid function name
    assert settings.memory == 2048  # flag
    assert settings.origin["memory"] == "--memory"
    assert settings.architecture == "arm64"  # pyproject
    assert settings.s3_bucket == "from-pyproject"  # snake_case accepted
    assert settings.timeout == 60 and settings.python == "3.12"  # defaults
    assert settings.sources == ((project / "demo_app").resolve(),)  # relative to pyproject
    assert settings.project_dir == project.resolve()
    assert any(o.startswith("protobuf>=6") for o in settings.overrides)


def test_source_is_inferred_from_the_handler_and_overrides_from_uv(project: Path):
    (project / "pyproject.toml").write_text("""\
[project]
name = "demo"

[tool.uv]
override-dependencies = ["protobuf==6.31.1"]

[tool.baton.lambda]
handler = "demo_app.handler.handler"
functions = "demo/*"
""")
    settings = load_settings({})
    assert settings.sources == ((project / "demo_app").resolve(),)
    assert settings.overrides == ("protobuf==6.31.1",)


def test_missing_required_settings_say_where_to_put_them(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DeployError) as caught:
        load_settings({"name": "x", "functions": "a/*"})
    assert "no handler given" in caught.value.message
    assert "[tool.baton.lambda]" in (caught.value.hint or "")
