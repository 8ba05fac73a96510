"""moto's server for the Kinesis tests (tests/aws_support.py), and helpers to write and read its streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.aws_support import REGION, fake_aws_on_reset_moto


@pytest.fixture
def kinesis(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Kinesis:
    """A reset moto; this machine's AWS setup hidden, fake credentials in the environment."""
    fake_aws_on_reset_moto(moto_url, monkeypatch, tmp_path)
    return Kinesis(moto_url)


class Kinesis:
    """A boto3 Kinesis client on moto, for setting up streams and checking what they hold."""

    def __init__(self, url: str) -> None:
        self.url = url
        # Parameter validation off: a test may write a record real Kinesis would refuse.
        self.client: Any = boto3.client(
            "kinesis", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(parameter_validation=False),
        )

    def region_yaml(self, endpoint: str | None = None) -> str:
        """The spec lines pointing a Kinesis ingress or egress at moto (StateFun's own keys)."""
        return (f"  awsRegion: {{type: custom-endpoint, endpoint: '{endpoint or self.url}', id: {REGION}}}\n"
                "  awsCredentials: {type: basic, accessKeyId: testing, secretAccessKey: testing}\n")

    def counter_module(self, url: str, namespace: str, *, batch: int | None = None, egress: bool = False) -> str:
        """module.yaml text: functions `<namespace>/*` at `url` (`batch`: their maxNumBatchRequests),
        a Kinesis ingress `<namespace>/in` reading stream `events` from its start into
        `<namespace>/counter` as `<namespace>/Amount`; with `egress`, a Kinesis egress `<namespace>/out`."""
        batching = f", maxNumBatchRequests: {batch}" if batch else ""
        text = f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: {namespace}/*, urlPathTemplate: "{url}"{batching}}}
---
kind: io.statefun.kinesis.v1/ingress
spec:
  id: {namespace}/in
{self.region_yaml()}  startupPosition: {{type: earliest}}
  streams: [{{stream: events, valueType: {namespace}/Amount, targets: [{namespace}/counter]}}]
"""
        if egress:
            text += f"""---
kind: io.statefun.kinesis.v1/egress
spec:
  id: {namespace}/out
{self.region_yaml()}"""
        return text

    def create_stream(self, name: str, shards: int = 1) -> None:
        self.client.create_stream(StreamName=name, ShardCount=shards)

    def shard_ids(self, stream: str) -> list[str]:
        return [s["ShardId"] for s in self.client.list_shards(StreamName=stream)["Shards"]]

    def put(self, stream: str, records: Iterable[tuple[str, bytes]]) -> None:
        entries = [{"PartitionKey": key, "Data": data} for key, data in records]
        for start in range(0, len(entries), 500):
            response = self.client.put_records(StreamName=stream, Records=entries[start:start + 500])
            assert response["FailedRecordCount"] == 0

    def read(self, stream: str) -> list[dict[str, Any]]:
        """Every record of every shard, oldest first per shard."""
        records: list[dict[str, Any]] = []
        for shard in self.shard_ids(stream):
            iterator = self.client.get_shard_iterator(
                StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                response = self.client.get_records(ShardIterator=iterator, Limit=10_000)
                records += response["Records"]
                if not response["Records"]:
                    break
                iterator = response.get("NextShardIterator")
        return records

    async def read_until(
        self, stream: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0,
    ) -> list[dict[str, Any]]:
        """The stream's records once `done(records)` (fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            records = await asyncio.to_thread(self.read, stream)
            if done(records):
                return records
            if time.monotonic() > deadline:
                raise AssertionError(f"{stream} holds {len(records)} records, not yet what was expected")
            await asyncio.sleep(0.2)
