"""moto's server on loopback, and an environment whose AWS chain can only reach it.

For the `baton deploy`, Kinesis and Lambda-invoke tests (the fixture is registered in tests/conftest.py). moto runs in the test process
(`ThreadedMotoServer`), so it outlives a `baton run` child that a test stops or SIGKILLs.
Credentials are fake ones in the environment; no AWS host is ever contacted.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"

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
    """moto in server mode on a free loopback port, for the whole session; its base URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


def reset_moto(moto_url: str) -> None:
    """Empty moto of what earlier tests made (one server serves the whole session)."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def fake_aws_on_reset_moto(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """moto emptied of what earlier tests made; this machine's AWS setup hidden and fake
    credentials in the environment (the endpoint and region are the caller's to set)."""
    reset_moto(moto_url)
    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
