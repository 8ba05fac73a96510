"""infra/lambda/template.yaml passes cfn-lint and transforms with the AWS SAM translator."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "lambda" / "template.yaml"


class NoManagedPolicies:
    """The translator looks managed policy names up in IAM; this template names none."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.deploy.conftest import isolate_aws_environment

    isolate_aws_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_cfn_lint_finds_nothing():
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(m) for m in matches] == []


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path):
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE.read_text().replace("MemorySize: !Ref MemorySize",
                                                   "MemorySize: 64"))
    matches = lint_file(broken, config=ManualArgs(regions=["us-east-1"]))
    assert [m.rule.id for m in matches] == ["E3034"]  # below Lambda's minimum


def test_sam_transform_gives_function_alias_url_and_permissions():
    template = yaml_parse(TEMPLATE.read_text())
    code = template["Resources"]["Functions"]["Properties"]
    assert code["CodeUri"] == "../../build/lambda/functions.zip"
    code["CodeUri"] = "s3://artifacts/functions.zip"  # what `sam package` does before deploying
    output = transform(
        template,
        {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"},
        NoManagedPolicies(),
    )
    resources = output["Resources"]
    by_type: dict[str, list[str]] = {}
    for name, resource in resources.items():
        by_type.setdefault(resource["Type"], []).append(name)
    assert sorted(by_type) == ["AWS::IAM::Role", "AWS::Lambda::Alias", "AWS::Lambda::Function",
                               "AWS::Lambda::Permission", "AWS::Lambda::Url",
                               "AWS::Lambda::Version"]

    function = resources["Functions"]["Properties"]
    assert function["Handler"] == {"Ref": "Handler"}
    assert function["Runtime"] == {"Ref": "Runtime"}
    assert function["Architectures"] == [{"Ref": "Architecture"}]
    assert function["MemorySize"] == {"Ref": "MemorySize"}
    assert function["Timeout"] == {"Ref": "Timeout"}
    assert "AWSLambdaBasicExecutionRole" in str(resources["FunctionsRole"])

    [alias] = by_type["AWS::Lambda::Alias"]
    assert resources[alias]["Properties"]["Name"] == "live"
    [url] = by_type["AWS::Lambda::Url"]
    url_properties = resources[url]["Properties"]
    assert url_properties["AuthType"] == "AWS_IAM"
    assert url_properties["TargetFunctionArn"] == {"Ref": alias}  # the URL serves the alias
    permissions = [resources[name]["Properties"] for name in by_type["AWS::Lambda::Permission"]]
    assert {p["Action"] for p in permissions} == {"lambda:InvokeFunctionUrl",
                                                  "lambda:InvokeFunction"}
    assert all(p["FunctionName"] == {"Ref": alias} for p in permissions)
    assert all(p["Principal"] == {"Ref": "AWS::AccountId"} for p in permissions)

    outputs = output["Outputs"]
    assert outputs["FunctionUrl"]["Value"] == {"Fn::GetAtt": [url, "FunctionUrl"]}
    assert outputs["FunctionArn"]["Value"] == {"Fn::GetAtt": ["Functions", "Arn"]}
    assert outputs["AliasArn"]["Value"] == {"Ref": alias}
