"""Fixtures for `baton deploy`: moto in server mode on loopback, fake credentials, a project.

Every AWS call goes to moto through the standard `AWS_ENDPOINT_URL` variable; credentials are
fake ones in the environment. No real credentials, no internet AWS hosts.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from baton.cli import cli
from tests.aws_support import REGION, fake_aws_on_reset_moto
from tests.aws_support import isolate_aws_environment as isolate_aws_environment  # imported from here too

ACCOUNT = "123456789012"
FUNCTION = "demo-counter"
PROJECT = Path(__file__).resolve().parent / "project"

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"

[tool.baton.lambda]
name = "demo-counter"
handler = "demo_app.handler.handler"
functions = "demo/*"
memory = 256
timeout = 30
python = "3.12"
"""


@dataclass
class Aws:
    """boto3 clients on moto, for assertions (the CLI makes its own from the environment)."""

    url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.url)

    @property
    def lam(self) -> Any:
        return self.client("lambda")

    @property
    def iam(self) -> Any:
        return self.client("iam")

    def function_names(self) -> list[str]:
        return [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]

    def versions(self, name: str = FUNCTION) -> list[str]:
        return [v["Version"] for v in self.lam.list_versions_by_function(
            FunctionName=name)["Versions"]]

    def uploaded_zip(self, name: str = FUNCTION, qualifier: str | None = None) -> bytes:
        """The zip Lambda (moto, in this process) holds for the function."""
        from moto.awslambda.models import lambda_backends

        return lambda_backends[ACCOUNT][REGION].get_function(name, qualifier).code_bytes


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """A reset moto, and an environment whose AWS chain has fake credentials pointing at it."""
    fake_aws_on_reset_moto(moto_url, monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return Aws(moto_url)


@pytest.fixture(scope="session")
def baton_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baton's own package as it was when the session started: the zip ships a copy of it,
    so edits to src/baton while the tests run cannot make two deploys of one test differ."""
    import baton as baton_package

    target = tmp_path_factory.mktemp("snapshot") / "baton"
    shutil.copytree(Path(baton_package.__file__).parent, target,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, baton_snapshot: Path) -> Path:
    """A copy of tests/deploy/project with a pyproject.toml; the working directory."""
    monkeypatch.setattr("baton.deploy.package._baton_package_dir", lambda: baton_snapshot)
    root = tmp_path / "demo"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(root)
    return root


def baton(*args: str) -> Result:
    """Run the baton CLI as a user would."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def deploy(*args: str) -> Result:
    return baton("deploy", "lambda", *args)
