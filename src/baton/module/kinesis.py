"""Kinesis ingress and egress: `io.statefun.kinesis.v1/ingress` and `/egress` (§1.10).

Both name their AWS region and credentials the way StateFun's Kinesis IO does (`awsRegion`,
`awsCredentials`, each with a `type`); client settings go in `clientConfigProperties`.
"""

from __future__ import annotations

from typing import Any

from baton.module.components import Parsed
from baton.module.fields import check_keys, one_of, property_map, routes, startup_date
from baton.module.specs import (
    AwsCredentials,
    AwsRegion,
    KinesisEgressSpec,
    KinesisIngressSpec,
    KinesisStreamRoute,
    SourceLocation,
)
from baton.module.yaml_nodes import INT32, Node

_REGION_TYPES = ("default", "specific", "custom-endpoint")
_CREDENTIAL_TYPES = ("default", "basic", "profile")
INGRESS_KEYS = (
    "id",
    "awsRegion",
    "awsCredentials",
    "startupPosition",
    "streams",
    "clientConfigProperties",
)
EGRESS_KEYS = (
    "id",
    "awsRegion",
    "awsCredentials",
    "maxOutstandingRecords",
    "clientConfigProperties",
)


def _aws_region(node: Node | None) -> AwsRegion:
    if node is None:
        return AwsRegion()
    node.mapping("awsRegion: {type: specific, id: us-west-1}")
    check_keys(node, ("type", "id", "endpoint"))
    kind = one_of(node.require("type", "type: specific"), _REGION_TYPES, "AWS region type")
    if kind == "specific":
        return AwsRegion("specific", id=node.require("id", "id: us-west-1").text())
    if kind == "custom-endpoint":
        endpoint = node.require("endpoint", "endpoint: https://localhost:4567").text()
        return AwsRegion(
            "custom-endpoint", id=node.require("id", "id: us-west-1").text(), endpoint=endpoint
        )
    return AwsRegion()


def _aws_credentials(node: Node | None) -> AwsCredentials:
    if node is None:
        return AwsCredentials()
    node.mapping("awsCredentials: {type: basic, accessKeyId: ..., secretAccessKey: ...}")
    check_keys(node, ("type", "accessKeyId", "secretAccessKey", "profileName", "profilePath"))
    kind = one_of(node.require("type", "type: default"), _CREDENTIAL_TYPES, "AWS credential type")
    if kind == "basic":
        return AwsCredentials(
            "basic",
            access_key_id=node.require("accessKeyId", "accessKeyId: AKIA...").text(),
            secret_access_key=node.require("secretAccessKey", "secretAccessKey: ...").text(),
        )
    if kind == "profile":
        path = node.get("profilePath")
        return AwsCredentials(
            "profile",
            profile_name=node.require("profileName", "profileName: my-profile").text(),
            profile_path=None if path is None else path.text(),
        )
    return AwsCredentials()


def parse_ingress(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """An `io.statefun.kinesis.v1/ingress` document."""
    spec.mapping("id: example/names")
    check_keys(spec, INGRESS_KEYS)
    id_node = spec.require("id", "id: example/names")
    ingress_id = id_node.typename("example/names")
    position, date = _startup(spec.get("startupPosition"))
    ingress = KinesisIngressSpec(
        id=ingress_id,
        streams=routes(spec, "streams", "stream", KinesisStreamRoute, "Kinesis"),
        aws_region=_aws_region(spec.get("awsRegion")),
        aws_credentials=_aws_credentials(spec.get("awsCredentials")),
        startup_position=position,
        startup_date=date,
        client_config_properties=property_map(spec.get("clientConfigProperties")),
        kind=kind,
        source=source,
    )
    return Parsed(ingress, ("ingress", str(ingress_id)), id_node)


def _startup(node: Node | None) -> tuple[Any, str | None]:
    if node is None:
        return "latest", None
    node.mapping("startupPosition: {type: earliest}")
    check_keys(node, ("type", "date"))
    kind = one_of(
        node.require("type", "type: earliest"),
        ("earliest", "latest", "date"),
        "startup position type",
    )
    if kind == "date":
        return kind, startup_date(node.require("date", "date: 2020-02-01 04:15:00.000 +0000"))
    return kind, None


def parse_egress(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """An `io.statefun.kinesis.v1/egress` document."""
    spec.mapping("id: example/greets")
    check_keys(spec, EGRESS_KEYS)
    id_node = spec.require("id", "id: example/greets")
    egress_id = id_node.typename("example/greets")
    outstanding = spec.get("maxOutstandingRecords")
    egress = KinesisEgressSpec(
        id=egress_id,
        aws_region=_aws_region(spec.get("awsRegion")),
        aws_credentials=_aws_credentials(spec.get("awsCredentials")),
        max_outstanding_records=1000
        if outstanding is None
        else outstanding.integer(lo=1, hi=INT32[1]),
        client_config_properties=property_map(spec.get("clientConfigProperties")),
        kind=kind,
        source=source,
    )
    return Parsed(egress, ("egress", str(egress_id)), id_node)
