"""Fixtures for `baton deploy`: moto in server mode on loopback, fake credentials, a project.

Every AWS call goes to moto through the standard `AWS_ENDPOINT_URL` variable; credentials are
fake ones in the environment. No real credentials, no internet AWS hosts.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from moto.server import ThreadedMotoServer

from baton.cli import cli

ACCOUNT = "123456789012"
REGION = "us-east-1"
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

_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_S3", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "HTTP_PROXY", "HTTPS_PROXY",
    "http_proxy", "https_proxy",
)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


def isolate_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable, file or metadata service of this machine's AWS setup can be used."""
    for variable in _AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    empty = tmp_path / "aws-empty"
    empty.mkdir(exist_ok=True)
    (empty / "config").write_text("")
    (empty / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """A reset moto, and an environment whose AWS chain has fake credentials pointing at it."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
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
