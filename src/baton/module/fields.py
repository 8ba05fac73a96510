"""Field readers shared by several document kinds: keys, targets, properties, routes, timeouts.

Each reads one `Node` the way StateFun's Jackson binding or `Selectors` would, and fails or warns
with the node's location and a fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from baton.aws.arns import REGION
from baton.diagnostics import ModuleError, did_you_mean
from baton.module.specs import TargetFunctions
from baton.module.typename import TypeName
from baton.module.yaml_nodes import Node, describe


def check_keys(node: Node, known: Iterable[str], hints: dict[str, str] | None = None) -> None:
    """Warn about keys StateFun ignores (Jackson FAIL_ON_UNKNOWN_PROPERTIES=false)."""
    known = tuple(known)
    for key, child in node.mapping().items():
        if key in known:
            continue
        hint = (hints or {}).get(key) or did_you_mean(key, known)
        if key == "<<":
            hint = _MERGE_HINT
        child.warn(f"unknown key `{key}` is ignored (StateFun ignores it too).{hint}")


_MERGE_HINT = (
    " YAML merge keys are not supported by StateFun's YAML parser (Jackson), so the merged keys"
    " are ignored there; write the keys out."
)


def target_functions(node: Node, *, strict: bool) -> TargetFunctions:
    """`ns/name` or `ns/*` (statefun-reference §1.6)."""
    target = node.typename("example/*", strict=strict)
    if "*" in target.namespace or (target.name != "*" and "*" in target.name):
        node.fail(
            f"Invalid syntax for target functions: {str(target)!r}. Only <namespace>/<name> or "
            "<namespace>/* are supported. There is no prefix matching: `com.foo/*` serves exactly "
            "the namespace `com.foo`; bind other namespaces with their own endpoint documents."
        )
    return TargetFunctions(target.namespace, None if target.name == "*" else target.name)


def property_map(node: Node | None) -> dict[str, str]:
    """A list of single-entry maps (`- key: value`) → dict, like `PropertiesJsonDeserializer`."""
    if node is None:
        return {}
    example = "\n  - bootstrap.servers: kafka:9092"
    if node.is_map:
        node.fail(
            f"`{node.name}` must be a list of single-entry maps, not a mapping. "
            f"Write each property as a list item:{example}"
        )
    result: dict[str, str] = {}
    for item in node.items(example):
        entries = item.mapping("- some.property: value")
        if not entries:
            item.fail("a property entry must hold one `key: value` pair.")
        (key, value), *rest = entries.items()
        if rest:
            # StateFun reads only the first entry of each list item.
            item.warn(
                f"only `{key}` is read from this item (StateFun reads one entry per item); "
                f"put {', '.join(f'`{k}`' for k, _ in rest)} in their own `- key: value` items."
            )
        if value.is_map or value.is_list:
            value.fail(f"property `{key}` must have a scalar value, got {describe(value)}.")
        result[key] = "null" if value.is_null else value.text()
    return result


def target_types(node: Node) -> tuple[TypeName, ...]:
    """The `targets:` list of a route: the function types that receive its records."""
    found = tuple(
        item.typename("example/greeter") for item in node.items("`targets: [example/greeter]`")
    )
    if not found:
        node.warn("no targets: records from this source are not delivered to any function.")
    return found


def startup_date(node: Node) -> str:
    """A date in Java's `yyyy-MM-dd HH:mm:ss.SSS Z` pattern: `2020-02-01 04:15:00.000 +0000`."""
    text = node.text()
    if not _is_java_startup_date(text):
        node.fail(
            f"Unable to parse date string for startup position: {text!r}; the date should conform "
            "to the pattern yyyy-MM-dd HH:mm:ss.SSS Z, e.g. '2020-02-01 04:15:00.000 +0000' "
            "(three millisecond digits; the offset is +HHMM, not 'Z' or '+00:00')."
        )
    return text


_JAVA_DATE = re.compile(r"(\d{4,9})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) [+-](\d\d)(\d\d)")


def _is_java_startup_date(text: str) -> bool:
    match = _JAVA_DATE.fullmatch(text)
    if not match:
        return False
    year, month, day, hour, minute, second, _, off_h, off_m = (int(g) for g in match.groups())
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return off_h <= 18 and off_m < 60


def one_of(node: Node, valid: Sequence[str], what: str, noun: str = "values") -> str:
    """One of a fixed set of case-sensitive words, with StateFun's own wording."""
    value = node.text()
    if value not in valid:
        node.fail(
            f"Invalid {what}: {value}; valid {noun} are [{', '.join(valid)}]."
            + did_you_mean(value, valid)
        )
    return value


def routes(
    spec: Node, section: str, source_key: str, route_type: type, system: str,
    extra_keys: tuple[str, ...] = (),
) -> tuple:
    """The non-empty `topics`/`streams` list of a routable ingress (`extra_keys`: a fork's keys,
    parsed by the caller)."""
    node = spec.get(section)
    example = (
        f"\n  {section}:\n    - {source_key}: names\n      valueType: io.statefun.types/string"
    )
    items = [] if node is None else node.items(f"{example}\n      targets: [example/person]")
    if not items:
        at = node or spec
        raise ModuleError(
            f"Must define at least one {system} {source_key} to consume from. Add e.g.{example}"
            "\n      targets: [example/person]",
            file=at.file,
            line=at.line,
            field=spec.child_path(section),
        )
    by_name: dict[str, Any] = {}
    for item in items:
        route = _route(item, source_key, route_type, extra_keys)
        name = getattr(route, source_key)
        if name in by_name:
            item.warn(
                f"{source_key} `{name}` is listed twice; "
                "StateFun keeps only the last routing for it."
            )
        by_name[name] = route
    return tuple(by_name.values())


def _route(item: Node, source_key: str, route_type: type, extra_keys: tuple[str, ...]) -> Any:
    """One `{topic|stream, valueType, targets}` routing entry."""
    item.mapping(f"- {source_key}: names")
    check_keys(item, (source_key, "valueType", "targets", *extra_keys))
    name = item.require(source_key, f"{source_key}: names").text()
    value_type = item.require("valueType", "valueType: io.statefun.types/string")
    # StateFun reads valueType with textValue(): only a real string works.
    type_name = value_type.typename("io.statefun.types/string", strict=True)
    targets = target_types(item.require("targets", "targets: [example/person]"))
    return route_type(name, type_name, targets)


def max_batch(node: Node | None, *, strict: bool) -> int:
    """Default 1000; a value <= 0 disables the batch limit."""
    return 1000 if node is None else node.integer(strict=strict)


def timeout(node: Node) -> timedelta:
    """A transport or call timeout: a duration above zero."""
    value = node.duration()
    if value == timedelta(0):
        node.fail(f"Timeout durations must be larger than 0. Write e.g. `{node.name}: 10s`.")
    return value


def optional_timeout(node: Node | None, default: timedelta) -> timedelta:
    """`timeout(node)`, or `default` where the key is absent."""
    return default if node is None else timeout(node)


def fmt_duration(value: timedelta) -> str:
    """A timeout as messages show it: `1 min`, `10 s`, `500 ms`."""
    seconds = value.total_seconds()
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    if seconds >= 1 and seconds == int(seconds):
        return f"{int(seconds)} s"
    return f"{seconds * 1000:g} ms"


def aws_region_name(node: Node) -> str:
    """An AWS region name such as `us-east-1`, by the rule of `baton.aws.arns.REGION`."""
    region = node.text(strict=True, example="region: us-east-1")
    if not REGION.fullmatch(region):
        node.fail(
            f"`region` {region!r} is not an AWS region name; write e.g. `region: us-east-1`."
            + did_you_mean(region.lower().replace("_", "-"), ("us-east-1", "eu-west-1"))
        )
    return region
