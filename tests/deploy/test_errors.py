"""Bad input gives a clear error that says how to fix it, and changes nothing on AWS."""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import Aws, deploy, isolate_aws_environment

MB = 1024 * 1024


def error_text(result) -> str:
    assert result.exit_code != 0, result.output
    return " ".join(result.stderr.split())  # rich/click may wrap; compare on single spaces


def test_no_credentials(aws: Aws, project: Path, monkeypatch: pytest.MonkeyPatch,
                        tmp_path: Path):
    isolate_aws_environment(monkeypatch, tmp_path)  # no keys, empty config and credential files
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    text = error_text(deploy())
    assert "no AWS credentials found" in text
    assert "never takes credentials as flags" in text
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert aws.function_names() == []


def test_no_credential_flags_exist(aws: Aws, project: Path):
    text = error_text(deploy("--aws-secret-access-key", "x"))
    assert "No such option" in text


def test_unknown_region(aws: Aws, project: Path):
    text = error_text(deploy("--region", "us-easst-1"))
    assert "unknown AWS region 'us-easst-1'" in text
    assert "Did you mean us-east-1" in text
    assert aws.function_names() == []


def test_no_region_anywhere(aws: Aws, project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    text = error_text(deploy())
    assert "no AWS region" in text and "--region" in text


def test_role_that_does_not_exist(aws: Aws, project: Path):
    missing = "arn:aws:iam::123456789012:role/no-such-role"
    text = error_text(deploy("--role", missing))
    assert f"execution role {missing} does not exist" in text
    assert "trust policy for lambda.amazonaws.com" in text
    assert aws.function_names() == []


def test_role_that_lambda_may_not_assume(aws: Aws, project: Path):
    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
             '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
    arn = aws.iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    text = error_text(deploy("--role", arn))
    assert "does not trust lambda.amazonaws.com" in text
    assert aws.function_names() == []


def test_role_of_someone_else_with_baton_name_is_not_taken_over(aws: Aws, project: Path):
    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
             '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
    aws.iam.create_role(RoleName="demo-counter-baton", AssumeRolePolicyDocument=trust)
    text = error_text(deploy())
    assert "exists and was not created by baton" in text and "--role" in text
    assert aws.function_names() == []


def test_zip_over_the_direct_upload_limit_and_the_s3_way_around(aws: Aws, project: Path):
    # incompressible data: the zip itself is over 50 MB
    (project / "demo_app" / "model.bin").write_bytes(os.urandom(51 * MB))
    text = error_text(deploy())
    assert "over Lambda's 50 MB limit for a direct upload" in text
    assert "--s3-bucket" in text and "trim dependencies" in text
    assert aws.function_names() == []

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    result = deploy("--s3-bucket", "artifacts")
    assert result.exit_code == 0, result.output
    [key] = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"]]
    assert key.startswith("baton/lambda/demo-counter/") and key.endswith(".zip")
    zipped = s3.get_object(Bucket="artifacts", Key=key)["Body"].read()
    assert len(zipped) > 50 * MB
    assert aws.uploaded_zip() == zipped
    assert aws.versions() == ["$LATEST", "1"]


def test_package_over_the_unzipped_limit(aws: Aws, project: Path):
    big = project / "demo_app" / "data.bin"
    with big.open("wb") as handle:  # sparse: cheap to make, 251 MB to Lambda
        handle.truncate(251 * MB)
    text = error_text(deploy())
    assert "over Lambda's 250 MB limit" in text
    assert "demo_app 251 MB" in text
    assert "trim dependencies" in text
    assert aws.function_names() == []


def test_unknown_setting_in_pyproject(aws: Aws, project: Path):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "memroy = 512\n")
    text = error_text(deploy())
    assert "unknown setting `memroy`" in text and "Did you mean `memory`?" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--memory", "64"], "64 MB is outside Lambda's 128..10240 MB"),
        (["--timeout", "901"], "901 s is outside Lambda's 1..900 seconds"),
        (["--python", "3.7"], "'3.7' is not a Python version Lambda runs"),
        (["--handler", "handler"], "'handler' is not `module.attribute`"),
        (["--functions", "demo"], "'demo' is not a function type pattern"),
        (["--name", "bad name"], "'bad name' is not a valid Lambda function name"),
    ],
)
def test_invalid_settings(aws: Aws, project: Path, args: list[str], message: str):
    text = error_text(deploy(*args))
    assert message in text
    assert "--" + args[0].lstrip("-") in text  # says which flag
    assert aws.function_names() == []


def test_handler_that_is_not_in_the_package(aws: Aws, project: Path):
    text = error_text(deploy("--handler", "demo_app.missing.handler", "--source", "demo_app"))
    assert "module `demo_app.missing` is not in the package" in text
    text = error_text(deploy("--handler", "demo_app.handler.nope"))
    assert "`nope` is not defined at the top of demo_app.handler" in text
    assert aws.function_names() == []


@pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64",
                    reason="imports the handler from the package: needs a Linux x86_64 host")
@pytest.mark.parametrize("runnable_here", [True, False], ids=["host-python", "other-python"])
def test_handler_whose_dependency_is_missing_from_the_package(aws: Aws, project: Path, runnable_here):
    # Checked statically (through the package's own modules), so also when this machine cannot
    # import the handler: never "found in the package" for a zip that lacks what it imports.
    (project / "demo_app" / "store.py").write_text("import yaml_not_shipped\n")
    handler = project / "demo_app" / "handler.py"
    handler.write_text("from demo_app import store\n" + handler.read_text())
    python = f"{sys.version_info.major}.{sys.version_info.minor}" if runnable_here else (
        "3.13" if sys.version_info[:2] != (3, 13) else "3.12")
    text = error_text(deploy("--python", python))
    assert "the package lacks modules its code imports: `yaml_not_shipped` (in demo_app.store)" in text
    assert "`requirements`" in text
    assert aws.function_names() == []


def test_native_library_for_the_wrong_architecture(aws: Aws, project: Path):
    import google._upb._message as upb  # this machine's build (x86_64 or aarch64)

    host = {"x86_64": "x86_64", "aarch64": "arm64"}[platform.machine()]
    other = "arm64" if host == "x86_64" else "x86_64"
    (project / "demo_app" / "_speedups.so").write_bytes(Path(upb.__file__).read_bytes())
    text = error_text(deploy("--architecture", other))
    assert f"demo_app/_speedups.so is a native library for {host}" in text
    assert re.search(rf"runs on {other}", text)
    assert aws.function_names() == []


def test_unchanged_code_over_50_mb_needs_no_upload(aws: Aws, project: Path):
    (project / "demo_app" / "model.bin").write_bytes(os.urandom(51 * MB))
    aws.client("s3").create_bucket(Bucket="artifacts")
    assert deploy("--s3-bucket", "artifacts").exit_code == 0
    again = deploy()  # no bucket: fine, nothing is uploaded
    assert again.exit_code == 0, again.output
    assert "unchanged:" in again.stderr
    assert aws.versions() == ["$LATEST", "1"]


# --- IAM propagation: a role created seconds ago may not be assumable yet --------------------


NOT_ASSUMABLE = {"Error": {"Code": "InvalidParameterValueException",
                           "Message": "The role defined for the function cannot be assumed by "
                                      "Lambda."}}


def _deployer(tmp_path: Path, role: str | None = None):
    import base64
    import hashlib
    import zipfile

    from baton.deploy.config import load_settings
    from baton.deploy.lambda_deploy import LambdaDeployer, connect
    from baton.deploy.package import Package

    path = tmp_path / "tiny.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo_app/handler.py", "handler = None\n")
    data = path.read_bytes()
    package = Package(path, base64.b64encode(hashlib.sha256(data).digest()).decode(), len(data),
                      len(data), ("demo_app/handler.py",), (), "test")
    sleeps: list[float] = []
    deployer = LambdaDeployer(connect(None), load_settings({"role": role}), package,
                              sleep=sleeps.append)
    return deployer, sleeps


def _failing(deployer, times: int) -> list[int]:
    from botocore.exceptions import ClientError

    real, calls = deployer.lam.create_function, []

    def create_function(**kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise ClientError(NOT_ASSUMABLE, "CreateFunction")
        return real(**kwargs)

    deployer.lam.create_function = create_function
    return calls


def test_a_role_created_by_this_deploy_is_waited_for(aws: Aws, project: Path, tmp_path: Path):
    deployer, sleeps = _deployer(tmp_path)
    calls = _failing(deployer, times=2)
    result = deployer.deploy()
    assert len(calls) == 3 and sleeps == [1.0, 2.0]
    assert result.version == "1" and aws.function_names() == ["demo-counter"]


def test_a_given_role_lambda_cannot_assume_fails_at_once(aws: Aws, project: Path,
                                                          tmp_path: Path):
    from baton.deploy.errors import DeployError

    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
             '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
    arn = aws.iam.create_role(RoleName="given", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    deployer, sleeps = _deployer(tmp_path, role=arn)
    calls = _failing(deployer, times=100)
    with pytest.raises(DeployError) as caught:
        deployer.deploy()
    assert "Lambda cannot assume the execution role" in caught.value.message
    assert "iam:PassRole" in (caught.value.hint or "")
    assert len(calls) == 1 and sleeps == []
    assert aws.function_names() == []
