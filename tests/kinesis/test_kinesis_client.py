"""The boto3 client of a Kinesis ingress or egress: StateFun's awsRegion/awsCredentials, the AWS chain."""

from __future__ import annotations

import pytest

from baton.aws.errors import AwsSetupError
from baton.module import load_module_text
from baton.module.specs import AwsCredentials, AwsRegion
from baton.runtime import Runtime
from baton.runtime.connectors.kinesis_client import kinesis_client
from tests.aws_support import isolate_aws_environment


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, tmp_path)
    return tmp_path


def _access_key(client) -> str:
    return client._request_signer._credentials.get_frozen_credentials().access_key


def test_basic_credentials_and_a_custom_endpoint(no_aws):
    client = kinesis_client(
        "Kinesis ingress a/b", AwsRegion("custom-endpoint", id="eu-west-1", endpoint="http://127.0.0.1:9"),
        AwsCredentials("basic", access_key_id="AKIDBASIC", secret_access_key="s"),
        {"SocketTimeout": "1500", "connectionTimeout": "700", "MaxConnections": "3", "Unknown": "x"},
    )
    assert (client.meta.region_name, client.meta.endpoint_url) == ("eu-west-1", "http://127.0.0.1:9")
    assert _access_key(client) == "AKIDBASIC"
    config = client.meta.config
    assert (config.read_timeout, config.connect_timeout, config.max_pool_connections) == (1.5, 0.7, 3)


def test_a_profile_from_its_own_file(no_aws):
    path = no_aws / "my-credentials"
    path.write_text("[team]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n")
    client = kinesis_client("Kinesis egress a/b", AwsRegion("specific", id="us-west-2"),
                            AwsCredentials("profile", profile_name="team", profile_path=str(path)), {})
    assert (client.meta.region_name, _access_key(client)) == ("us-west-2", "AKIDPROFILE")


def test_the_default_chain_and_its_endpoint_variable(no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:9")
    client = kinesis_client("Kinesis ingress a/b", AwsRegion(), AwsCredentials(), {})
    assert (client.meta.region_name, client.meta.endpoint_url) == ("ap-south-1", "http://127.0.0.1:9")
    assert _access_key(client) == "AKIDCHAIN"


@pytest.mark.parametrize("region, credentials, message", [
    (AwsRegion(), AwsCredentials("basic", access_key_id="a", secret_access_key="s"),
     "Kinesis ingress a/b: no AWS region: set `awsRegion: {type: specific, id: us-east-1}`"),
    (AwsRegion("specific", id="us-east-1"), AwsCredentials(),
     "Kinesis ingress a/b: the standard AWS credential chain found no credentials"),
    (AwsRegion("specific", id="us-east-1"), AwsCredentials("profile", profile_name="nope"),
     "Kinesis ingress a/b: awsCredentials: The config profile (nope) could not be found"),
    (AwsRegion("specific", id="us-east-1"), AwsCredentials("basic", access_key_id="a", secret_access_key="s"),
     "Kinesis ingress a/b: clientConfigProperties MaxConnections: 'many' is not a whole number"),
])
def test_what_is_missing_is_said(no_aws, region, credentials, message):
    with pytest.raises(AwsSetupError) as caught:
        kinesis_client("Kinesis ingress a/b", region, credentials, {"MaxConnections": "many"}
                       if "whole number" in message else {})
    assert str(caught.value).startswith(message)


async def test_a_runtime_with_an_unusable_kinesis_ingress_does_not_start(no_aws):
    runtime = Runtime(load_module_text("""
kind: io.statefun.kinesis.v1/ingress
spec:
  id: example/in
  awsRegion: {type: specific, id: us-east-1}
  streams: [{stream: names, valueType: example/Name, targets: [example/counter]}]
""", "module.yaml"), admin_port=None)
    with pytest.raises(AwsSetupError, match="Kinesis ingress example/in: the standard AWS credential chain"):
        await runtime.start()
    await runtime.stop()
