"""An isolated AWS environment for every Lambda transport test (no real account is reachable)."""

from __future__ import annotations

import os

import pytest

ACCESS_KEY = "testing"
SECRET_KEY = "testing-secret"
SESSION_TOKEN = "testing-session-token"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch, tmp_path):
    """Test credentials via the standard env vars; nothing read from ~/.aws or instance metadata."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return monkeypatch


@pytest.fixture
def no_aws_credentials(aws_env):
    """The credential chain finds nothing."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        aws_env.delenv(name)
    return aws_env
