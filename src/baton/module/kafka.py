"""Kafka ingress and egress: `io.statefun.kafka.v1/ingress` and `io.statefun.kafka.v1/egress` (§1.8, §1.9).

Defaults follow the StateFun code, not its docs: the startup position defaults to `latest`, and
the named fields (`address`, `consumerGroupId`) win over their Kafka client properties.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any, Literal

from baton.module.components import Parsed
from baton.module.fields import check_keys, one_of, property_map, routes, startup_date
from baton.module.specs import (
    InvalidRecordHandling,
    KafkaEgressSpec,
    KafkaIngressSpec,
    KafkaTopicRoute,
    SourceLocation,
)
from baton.module.yaml_nodes import Node

INGRESS_KEYS = (
    "id",
    "address",
    "consumerGroupId",
    "topics",
    "autoOffsetResetPosition",
    "startupPosition",
    "properties",
    # keys of the StateFun forks (kzmlabs, fransking), also allowed per topic
    "invalidRecordHandling",
    "forwardHeaders",
)
_FORK_KEYS = ("invalidRecordHandling", "forwardHeaders")
_STARTUP_TYPES = ("group-offsets", "earliest", "latest", "specific-offsets", "date")
_PROPERTY_HINT = (
    " Settings passed to the Kafka client go under `properties:` as `- key: value` items."
)


def parse_ingress(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """An `io.statefun.kafka.v1/ingress` document."""
    spec.mapping("id: example/names")
    check_keys(
        spec, INGRESS_KEYS, {"bootstrap.servers": _PROPERTY_HINT, "group.id": _PROPERTY_HINT}
    )
    id_node = spec.require("id", "id: example/names")
    ingress_id = id_node.typename("example/names")
    properties = property_map(spec.get("properties"))
    address = _setting(spec, "address", properties)
    group = _setting(spec, "consumerGroupId", properties)
    topics = _with_fork_keys(spec, routes(spec, "topics", "topic", KafkaTopicRoute, "Kafka", _FORK_KEYS))
    reset = spec.get("autoOffsetResetPosition")
    position, offsets, date = _startup(spec.get("startupPosition"))
    ingress = KafkaIngressSpec(
        id=ingress_id,
        address=address,
        consumer_group_id=group,
        topics=topics,
        auto_offset_reset_position="latest" if reset is None else _auto_offset_reset(reset),
        startup_position=position,
        startup_specific_offsets=offsets,
        startup_date=date,
        properties=properties,
        invalid_records=_invalid_records(spec.get("invalidRecordHandling")),
        forward_headers=_forward_headers(spec.get("forwardHeaders")),
        kind=kind,
        source=source,
    )
    return Parsed(ingress, ("ingress", str(ingress_id)), id_node)


def _with_fork_keys(spec: Node, topics: tuple[KafkaTopicRoute, ...]) -> tuple[KafkaTopicRoute, ...]:
    """Each topic's own `invalidRecordHandling` / `forwardHeaders` (the forks' per-topic overrides)."""
    overrides = {}
    for item in spec.require("topics", "topics: []").items("topics: [...]"):
        overrides[item.require("topic", "topic: names").text()] = (
            _invalid_records(item.get("invalidRecordHandling")),
            _forward_headers(item.get("forwardHeaders")),
        )
    return tuple(
        dataclasses.replace(t, invalid_records=overrides[t.topic][0], forward_headers=overrides[t.topic][1])
        for t in topics
    )


_HANDLING_TYPES = ("forward", "skip", "fail")
_LOG_LEVELS = ("debug", "info", "warn", "error")


def _invalid_records(node: Node | None) -> InvalidRecordHandling | None:
    """`invalidRecordHandling: skip` or `{type: skip|fail|forward, logLevel: warn}`."""
    if node is None:
        return None
    if not isinstance(node.value, dict):  # the short form
        return InvalidRecordHandling(one_of(node, _HANDLING_TYPES, "invalidRecordHandling type"))  # type: ignore[arg-type]
    node.mapping("invalidRecordHandling: {type: skip}")
    check_keys(node, ("type", "logLevel"))
    kind = one_of(
        node.require("type", "type: skip"), _HANDLING_TYPES, "invalidRecordHandling type"
    )
    level_node = node.get("logLevel")
    if level_node is None:
        return InvalidRecordHandling(kind, "error" if kind == "fail" else "warn")  # type: ignore[arg-type]
    if kind == "fail":
        level_node.fail("invalidRecordHandling: logLevel is only applicable to type: skip or forward")
    level = level_node.text().lower()
    if level not in _LOG_LEVELS:
        level_node.fail(
            f"Invalid invalidRecordHandling logLevel: {level_node.text()}; valid values are "
            f"[{', '.join(_LOG_LEVELS)}] (case-insensitive)"
        )
    return InvalidRecordHandling(kind, level)  # type: ignore[arg-type]


def _forward_headers(node: Node | None) -> bool | None:
    if node is None:
        return None
    if not isinstance(node.value, bool):
        node.fail("forwardHeaders must be true or false, e.g. `forwardHeaders: true`.")
    if node.value:
        node.warn(
            "baton drops Kafka record headers, as StateFun 3.3 does: its request-reply protocol "
            "has no place for them (the forks' header forwarding is not implemented in baton)."
        )
    return node.value


# Named field → (Kafka client property that may stand in for it, StateFun's message, example).
_SETTINGS = {
    "address": ("bootstrap.servers", "Missing setting for Kafka address.", "address: kafka:9092"),
    "consumerGroupId": (
        "group.id",
        "Missing setting for consumer group id.",
        "consumerGroupId: my-group",
    ),
}


def _setting(spec: Node, key: str, properties: dict[str, str]) -> str:
    """A named field, else its Kafka property; the named field wins when both are set."""
    prop, statefun, example = _SETTINGS[key]
    if (node := spec.get(key)) is not None:
        return node.text()
    if prop in properties:
        return properties[prop]
    spec.missing(key, f"{statefun} Add `{example}` (or a `{prop}` entry under `properties`).")


def _auto_offset_reset(node: Node) -> Literal["earliest", "latest"]:
    value = node.text()
    if value.upper() not in ("EARLIEST", "LATEST"):
        node.fail(
            f"Invalid autoOffsetResetPosition: {value}; "
            "valid values are [EARLIEST, LATEST] (case-insensitive)."
        )
    return "earliest" if value.upper() == "EARLIEST" else "latest"


def _startup(node: Node | None) -> tuple[Any, dict[str, int], str | None]:
    """(type, specific offsets, date); the code default is `latest` (the docs say group-offsets)."""
    if node is None:
        return "latest", {}, None
    node.mapping("startupPosition: {type: earliest}")
    check_keys(node, ("type", "offsets", "date"))
    kind = one_of(
        node.require("type", "type: earliest"), _STARTUP_TYPES, "startup position type"
    )
    if kind == "specific-offsets":
        return kind, _specific_offsets(node.require("offsets", "offsets: [{names/0: 42}]")), None
    if kind == "date":
        return kind, {}, startup_date(node.require("date", "date: 2020-02-01 04:15:00.000 +0000"))
    return kind, {}, None


def _specific_offsets(node: Node) -> dict[str, int]:
    offsets: dict[str, int] = {}
    for item in node.items("`offsets: [{names/0: 42}]`"):
        entries = item.mapping("- names/0: 42")
        if not entries:
            item.fail("an offsets entry must hold one `<topic>/<partition>: <offset>` pair.")
        key, value = next(iter(entries.items()))
        parts = key.split("/")
        while parts and parts[-1] == "":  # Java String.split drops trailing empty parts
            parts.pop()
        if len(parts) != 2 or not re.fullmatch(r"[+-]?\d+", parts[1]):
            value.fail(
                f"{key} does not conform to the <topic>/<partition_id> format, e.g. `names/0: 42`."
            )
        offsets[key] = value.integer(example="42", lo=-(2**63), hi=2**63 - 1)
    return offsets


EGRESS_KEYS = ("id", "address", "deliverySemantic", "properties")
_DELIVERY = ("at-least-once", "exactly-once", "none")


def parse_egress(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """An `io.statefun.kafka.v1/egress` document."""
    spec.mapping("id: example/greets")
    check_keys(spec, EGRESS_KEYS, {"bootstrap.servers": _PROPERTY_HINT})
    id_node = spec.require("id", "id: example/greets")
    egress_id = id_node.typename("example/greets")
    # StateFun fails with a NullPointerException without `address`, even with bootstrap.servers.
    address = spec.require("address", "address: kafka:9092").text()
    semantic, timeout = _delivery_semantic(spec.get("deliverySemantic"))
    egress = KafkaEgressSpec(
        id=egress_id,
        address=address,
        delivery_semantic=semantic,
        transaction_timeout=timeout,
        properties=property_map(spec.get("properties")),
        kind=kind,
        source=source,
    )
    return Parsed(egress, ("egress", str(egress_id)), id_node)


def _delivery_semantic(node: Node | None) -> tuple[Any, timedelta | None]:
    if node is None:
        return "at-least-once", None
    node.mapping("deliverySemantic: {type: at-least-once}")
    check_keys(node, ("type", "transactionTimeoutMillis", "transactionTimeout"))
    semantic = one_of(
        node.require("type", "type: at-least-once"), _DELIVERY, "delivery semantic type", "types"
    )
    if semantic != "exactly-once":
        return semantic, None
    millis, duration = node.get("transactionTimeoutMillis"), node.get("transactionTimeout")
    if millis is not None:
        if duration is not None:
            duration.warn(
                "`transactionTimeout` is ignored: the deprecated `transactionTimeoutMillis` "
                "wins, as in StateFun."
            )
        return semantic, timedelta(
            milliseconds=millis.integer(example="900000", lo=0, hi=2**63 - 1)
        )
    if duration is None:
        node.missing(
            "transactionTimeout",
            "Delivery semantic `exactly-once` needs a transaction timeout; "
            "add e.g. `transactionTimeout: 15min`.",
        )
    return semantic, duration.duration()
