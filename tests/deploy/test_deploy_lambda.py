"""`baton deploy lambda` against moto: what it creates, what it uploads, what it leaves alone."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from ruamel.yaml import YAML

from baton.module import load_module
from baton.module.specs import HttpEndpointSpec, LambdaEndpointSpec, LambdaUrlTransportSpec
from tests.deploy.conftest import ACCOUNT, FUNCTION, REGION, Aws, deploy

ROLE = f"{FUNCTION}-baton"
ELF_X86_64, ELF_AARCH64 = 62, 183


def yaml_doc(text: str) -> dict:
    return YAML(typ="safe").load(text)


def statements(aws: Aws) -> dict[str, dict]:
    policy = aws.lam.get_policy(FunctionName=FUNCTION, Qualifier="live")["Policy"]
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF"
    return int.from_bytes(data[18:20], "little")


def wheel_tag(archive: zipfile.ZipFile, distribution: str) -> str:
    [wheel] = [n for n in archive.namelist()
               if re.fullmatch(rf"{distribution}-[^/]+\.dist-info/WHEEL", n)]
    return archive.read(wheel).decode()


# --- create -----------------------------------------------------------------------------------


def test_deploy_creates_role_function_version_alias_url_and_permissions(aws: Aws, project: Path):
    result = deploy("--keep-zip", "build/kept.zip")
    assert result.exit_code == 0, result.output
    assert (project / "build" / "kept.zip").read_bytes() == aws.uploaded_zip()

    role = aws.iam.get_role(RoleName=ROLE)["Role"]
    trust = json.dumps(role["AssumeRolePolicyDocument"])
    assert "lambda.amazonaws.com" in trust and "sts:AssumeRole" in trust
    assert {"Key": "baton:managed", "Value": "true"} in role["Tags"]
    logs = aws.iam.get_role_policy(RoleName=ROLE, PolicyName="baton-lambda-logs")
    assert "logs:PutLogEvents" in json.dumps(logs["PolicyDocument"])

    config = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "demo_app.handler.handler"
    assert config["MemorySize"] == 256
    assert config["Timeout"] == 30
    assert config["Architectures"] == ["x86_64"]
    assert config["Role"] == role["Arn"]
    assert config["CodeSha256"] == base64.b64encode(
        hashlib.sha256(aws.uploaded_zip()).digest()).decode()

    assert aws.versions() == ["$LATEST", "1"]
    assert aws.lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "1"

    url = aws.lam.get_function_url_config(FunctionName=FUNCTION, Qualifier="live")
    assert url["AuthType"] == "AWS_IAM"
    granted = statements(aws)
    assert granted["baton-function-url"]["Action"] == "lambda:InvokeFunctionUrl"
    assert granted["baton-function-url"]["FunctionUrlAuthType"] == "AWS_IAM"
    assert ACCOUNT in json.dumps(granted["baton-function-url"]["Principal"])
    assert granted["baton-function-url-invoke"]["Action"] == "lambda:InvokeFunction"
    assert granted["baton-function-url-invoke"]["InvokedViaFunctionUrl"] is True

    # the endpoint document on stdout: a v2 http endpoint on the URL with SigV4 signing
    assert yaml_doc(result.stdout) == {
        "kind": "io.statefun.endpoints.v2/http",
        "spec": {
            "functions": "demo/*",
            "urlPathTemplate": url["FunctionUrl"],
            "transport": {"type": "baton.transports.v1/lambda-url", "region": REGION},
        },
    }
    assert "created" in result.stderr


def test_uploaded_zip_holds_linux_wheels_and_an_importable_handler(aws: Aws, project: Path,
                                                                   tmp_path: Path):
    assert deploy("--architecture", "x86_64").exit_code == 0
    data = aws.uploaded_zip()
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert {"statefun/__init__.py", "demo_app/handler.py", "demo_app/__init__.py",
            "baton/serve/aws_lambda.py", "google/protobuf/__init__.py"} <= set(names)
    assert re.search(r"^Tag: cp\d+-abi3-manylinux\w*_x86_64$", wheel_tag(archive, "protobuf"),
                     re.MULTILINE)
    [native] = [n for n in names if re.fullmatch(r"google/_upb/_message\..*\.so", n)]
    assert elf_machine(archive.read(native)) == ELF_X86_64
    [protobuf] = [n for n in names if re.fullmatch(r"protobuf-[\d.]+\.dist-info/METADATA", n)]
    assert protobuf.startswith("protobuf-6.")
    assert names == sorted(names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}

    # the handler path Lambda will use, imported from the zip alone (-S: no site-packages)
    extracted = tmp_path / "extracted"
    archive.extractall(extracted)
    script = r"""
import base64, json, sys
import statefun, google.protobuf
from google.protobuf.internal import api_implementation
from statefun import IntType
from statefun.request_reply_pb2 import FromFunction, ToFunction
from baton.aws.envelope import direct_invoke_payload
from demo_app.handler import handler

request = ToFunction()
request.invocation.target.namespace = "demo"
request.invocation.target.type = "counter"
request.invocation.target.id = "alice"
state = request.invocation.state.add()
state.state_name = "count"
call = request.invocation.invocations.add()
call.argument.typename = "demo/Ping"
call.argument.has_value = True
call.argument.value = b"{}"
event = json.loads(direct_invoke_payload(request.SerializeToString()))
response = handler(event, None)
reply = FromFunction.FromString(base64.b64decode(response["body"]))
[mutation] = reply.invocation_result.state_mutations
print(json.dumps({
    "status": response["statusCode"],
    "state": mutation.state_name,
    "count": IntType.serializer().deserialize(mutation.state_value.value),
    "protobuf": api_implementation.Type(),
    "files": [statefun.__file__, google.protobuf.__file__],
}))
"""
    run = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True,
                         env={"PYTHONPATH": str(extracted), "PATH": "/usr/bin:/bin"},
                         cwd=tmp_path, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["status"] == 200
    assert (answer["state"], answer["count"]) == ("count", 1)
    assert answer["protobuf"] == "upb"
    assert all(path.startswith(str(extracted)) for path in answer["files"])


def test_arm64_deploy_ships_aarch64_wheels(aws: Aws, project: Path):
    result = deploy("--architecture", "arm64")
    assert result.exit_code == 0, result.output
    config = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]
    assert config["Architectures"] == ["arm64"]
    archive = zipfile.ZipFile(io.BytesIO(aws.uploaded_zip()))
    assert re.search(r"^Tag: cp\d+-abi3-manylinux\w*_aarch64$", wheel_tag(archive, "protobuf"),
                     re.MULTILINE)
    natives = [n for n in archive.namelist() if n.endswith(".so")]
    assert natives and {elf_machine(archive.read(n)) for n in natives} == {ELF_AARCH64}


# --- re-deploy ----------------------------------------------------------------------------------


def test_redeploy_of_unchanged_code_changes_nothing(aws: Aws, project: Path):
    assert deploy().exit_code == 0
    before = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]

    again = deploy()
    assert again.exit_code == 0, again.output
    after = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]
    assert aws.versions() == ["$LATEST", "1"]
    assert aws.lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "1"
    assert after["CodeSha256"] == before["CodeSha256"]
    assert after["LastModified"] == before["LastModified"]
    assert "unchanged:" in again.stderr
    for resource in ("role", "code", "configuration", "version", "alias", "url", "permission"):
        assert re.search(rf"^\s+{resource}\s.*\bunchanged\b", again.stderr, re.MULTILINE), resource
    assert not re.search(r"\b(created|updated)\b", again.stderr)
    # the same endpoint document again
    assert yaml_doc(again.stdout) == yaml_doc(deploy().stdout)


def test_changed_code_publishes_a_new_version_and_moves_the_alias(aws: Aws, project: Path):
    assert deploy().exit_code == 0
    first = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]

    handler = project / "demo_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n\nVERSION = 2\n")
    result = deploy()
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+code\s.*\bupdated\b", result.stderr, re.MULTILINE)
    second = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    assert second != first
    assert aws.versions() == ["$LATEST", "1", "2"]
    assert aws.lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "2"
    assert b"VERSION = 2" in zipfile.ZipFile(io.BytesIO(aws.uploaded_zip(
        qualifier="2"))).read("demo_app/handler.py")

    # a changed setting (a flag over pyproject.toml's memory = 256) is a new version too
    result = deploy("--memory", "1024")
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+configuration\s.*\bupdated\b", result.stderr, re.MULTILINE)
    assert re.search(r"^\s+code\s.*\bunchanged\b", result.stderr, re.MULTILINE)
    assert aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["MemorySize"] == 1024
    assert aws.versions() == ["$LATEST", "1", "2", "3"]
    assert aws.lam.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"] == "3"


# --- dry run --------------------------------------------------------------------------------------


def test_dry_run_changes_nothing(aws: Aws, project: Path):
    result = deploy("--dry-run")
    assert result.exit_code == 0, result.output
    assert aws.function_names() == []
    assert aws.iam.list_roles()["Roles"] == []
    for resource in ("role", "code", "configuration", "version", "alias", "url", "permission"):
        assert re.search(rf"^\s+{resource}\s.*\bwould create\b", result.stderr,
                         re.MULTILINE), resource
    assert "nothing was changed" in result.stderr

    assert deploy().exit_code == 0
    handler = project / "demo_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    sha = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    planned = deploy("--dry-run", "--memory", "2048")
    assert planned.exit_code == 0, planned.output
    assert re.search(r"^\s+code\s.*\bwould update\b", planned.stderr, re.MULTILINE)
    assert re.search(r"^\s+configuration\s.*\bwould update\b.*MemorySize 256 → 2048",
                     planned.stderr, re.MULTILINE)
    assert re.search(r"^\s+role\s.*\bunchanged\b", planned.stderr, re.MULTILINE)
    config = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]
    assert (config["CodeSha256"], config["MemorySize"]) == (sha, 256)
    assert aws.versions() == ["$LATEST", "1"]


# --- endpoint documents -------------------------------------------------------------------------


def test_invoke_direct_prints_a_lambda_endpoint(aws: Aws, project: Path):
    result = deploy("--invoke", "direct")
    assert result.exit_code == 0, result.output
    arn = aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    assert yaml_doc(result.stdout) == {
        "kind": "baton.endpoints.v1/lambda",
        "spec": {"functions": "demo/*", "functionName": arn, "qualifier": "live",
                 "region": REGION},
    }


MODULE = """\
# The demo application.   (kept as written)
kind: io.statefun.endpoints.v2/http
spec:
  functions: demo/*
  urlPathTemplate: http://localhost:8000/statefun    # the local server
# a comment between documents
---
kind: io.statefun.playground.v1/egress
spec:
  port: 8091
  topics:
    - greetings      # oddly indented, on purpose
"""


def test_write_module_replaces_the_endpoint_and_keeps_the_rest(aws: Aws, project: Path):
    module = project / "module.yaml"
    module.write_text(MODULE)
    result = deploy("--write-module", "module.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    url = aws.lam.get_function_url_config(FunctionName=FUNCTION, Qualifier="live")["FunctionUrl"]
    text = module.read_text()
    assert text.startswith("# The demo application.   (kept as written)\n")
    assert text.endswith("# a comment between documents\n---\n" + MODULE.split("---\n")[1])
    docs = list(YAML(typ="safe").load_all(text))
    assert docs[0]["spec"] == {
        "functions": "demo/*", "urlPathTemplate": url,
        "transport": {"type": "baton.transports.v1/lambda-url", "region": REGION}}
    assert len(docs) == 2
    assert re.search(r"module: replaced the endpoint for demo/\* in module.yaml", result.stderr)
    # baton's own loader reads what was written
    [endpoint] = load_module(module).endpoints
    assert isinstance(endpoint, HttpEndpointSpec)
    assert endpoint.url_path_template == url
    assert isinstance(endpoint.transport, LambdaUrlTransportSpec)
    assert endpoint.transport.region == REGION

    # a module without an endpoint for these functions gets one appended
    other = project / "other.yaml"
    other.write_text(MODULE.replace("demo/*", "shop/*"))
    assert deploy("--write-module", "other.yaml", "--invoke", "direct").exit_code == 0
    docs = list(YAML(typ="safe").load_all(other.read_text()))
    assert other.read_text().startswith(MODULE.replace("demo/*", "shop/*"))
    assert [d["kind"] for d in docs] == ["io.statefun.endpoints.v2/http",
                                         "io.statefun.playground.v1/egress",
                                         "baton.endpoints.v1/lambda"]
    direct = load_module(other).endpoints[1]
    assert isinstance(direct, LambdaEndpointSpec)
    assert (direct.function_name, direct.qualifier, direct.region) == (
        aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"], "live",
        REGION)


def test_auth_none_warns_and_grants_public_access_only_when_asked(aws: Aws, project: Path):
    result = deploy("--auth", "NONE")
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "public" in result.stderr
    url = aws.lam.get_function_url_config(FunctionName=FUNCTION, Qualifier="live")
    assert url["AuthType"] == "NONE"
    granted = statements(aws)
    assert granted["baton-function-url"]["Principal"] == "*"
    assert granted["baton-function-url"]["FunctionUrlAuthType"] == "NONE"
    # a public URL needs no signing: a plain v2 endpoint a real StateFun cluster can call
    assert yaml_doc(result.stdout) == {
        "kind": "io.statefun.endpoints.v2/http",
        "spec": {"functions": "demo/*", "urlPathTemplate": url["FunctionUrl"]},
    }

    back = deploy()  # AWS_IAM again: URL auth and permissions follow
    assert back.exit_code == 0, back.output
    assert "warning" not in back.stderr
    assert re.search(r"^\s+url\s.*\bupdated\b.*NONE → AWS_IAM", back.stderr, re.MULTILINE)
    url = aws.lam.get_function_url_config(FunctionName=FUNCTION, Qualifier="live")
    assert url["AuthType"] == "AWS_IAM"
    granted = statements(aws)
    assert ACCOUNT in json.dumps(granted["baton-function-url"]["Principal"])
    assert granted["baton-function-url"]["FunctionUrlAuthType"] == "AWS_IAM"


def test_given_role_is_used_as_it_is(aws: Aws, project: Path):
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    arn = aws.iam.create_role(RoleName="team-lambda",
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    result = deploy("--role", arn)
    assert result.exit_code == 0, result.output
    assert aws.lam.get_function(FunctionName=FUNCTION)["Configuration"]["Role"] == arn
    assert [r["RoleName"] for r in aws.iam.list_roles()["Roles"]] == ["team-lambda"]


@pytest.mark.parametrize("setting", ["region", "flag"])
def test_region_comes_from_flag_or_pyproject_over_the_aws_chain(aws: Aws, project: Path,
                                                                setting: str):
    if setting == "region":
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + 'region = "eu-west-1"\n')
        result = deploy()
    else:
        result = deploy("--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    assert aws.function_names() == []  # not in us-east-1, the environment's region
    lam = boto3.client("lambda", region_name="eu-west-1", endpoint_url=aws.url)
    assert lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"].startswith(
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:")
    assert yaml_doc(result.stdout)["spec"]["transport"]["region"] == "eu-west-1"
