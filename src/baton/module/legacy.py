"""The legacy module format (statefun-reference §1.12): one document with `version: "3.0"`.

```yaml
version: "3.0"
module:
  meta: {type: remote}
  spec:
    endpoints: [{endpoint: {meta: {kind: http}, spec: {...}}}]
    ingresses: [{ingress: {meta: {type: io.statefun.kafka/ingress, id: ns/name}, spec: {...}}}]
    egresses:  [{egress:  {meta: {type: ..., id: ...}, spec: {...}}}]
```

StateFun 3.3 still reads it: each list item becomes a component (`kind` + `spec`) of today's
format, with the legacy kind names mapped (`baton.module.kinds.LEGACY_KINDS`) and `meta.id` copied
into the spec. A single document with a top-level `version` is always read this way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from baton.module.components import Component
from baton.module.fields import check_keys
from baton.module.kinds import LEGACY_KINDS
from baton.module.typename import TypeName
from baton.module.yaml_nodes import Node

_KNOWN_VERSIONS = ("1.0", "2.0", "3.0", "3.1")
_LEGACY_ONLY_30 = 'StateFun 3.3 loads only the legacy version "3.0"'


def is_legacy(documents: list[Node]) -> bool:
    """Whether a file's documents are a legacy module: one mapping with a `version` key."""
    return len(documents) == 1 and documents[0].is_map and "version" in documents[0].value


def components(root: Node) -> Iterator[Callable[[], Component]]:
    """The endpoints, ingresses and egresses of a legacy module, each read when called.

    A problem with the module as a whole raises while iterating; a problem in one entry raises
    when that entry is read, so the loader can report it and go on with the next entry.
    """
    version_node = root.value["version"]
    version = version_node.text(strict=True, example='version: "3.0"')
    module = root.get("module")
    meta_type = _meta_type(root, module)
    if meta_type.text().lower() != "remote":
        meta_type.fail(
            f"Unknown module type {meta_type.text()}, currently supported: REMOTE. "
            "Write `type: remote`."
        )
    _check_version(version_node, version)
    spec = module.get("spec") if module is not None and module.is_map else None
    if spec is None:
        root.fail(
            f"A module without a spec at {root.file}. "
            "Add `module.spec` with `endpoints`, `ingresses` and `egresses` lists."
        )
    spec.mapping("spec: {endpoints: [...]}")
    check_keys(spec, ("endpoints", "ingresses", "egresses"))
    for section, key in (
        ("endpoints", "endpoint"),
        ("ingresses", "ingress"),
        ("egresses", "egress"),
    ):
        items = spec.get(section)
        for item in (
            [] if items is None else items.items(f"`{section}:` followed by `- {key}:` items")
        ):
            yield partial(_component, item, key)


def _meta_type(root: Node, module: Node | None) -> Node:
    meta = module.get("meta") if module is not None and module.is_map else None
    meta_type = meta.get("type") if meta is not None and meta.is_map else None
    if meta_type is None:
        # A single document with a top-level `version` is always read as the legacy format.
        stray = (
            " Or remove `version`: it makes StateFun read the file as the legacy format."
            if "kind" in root.value
            else ""
        )
        root.fail(
            f"Unable to find a module type in {root.file}. "
            f"Add `module: {{meta: {{type: remote}}}}`.{stray}"
        )
    return meta_type


def _check_version(node: Node, version: str) -> None:
    if version not in _KNOWN_VERSIONS:
        node.fail(
            f"Unrecognized format version: {version}. "
            f"{_LEGACY_ONLY_30}; newer files use `kind:`/`spec:` documents."
        )
    if version < "3.0":
        node.fail(
            "Only format versions higher than or equal to 3.0 is supported. "
            f"Was version {version}. Rewrite the file as `kind:`/`spec:` documents."
        )
    if version != "3.0":
        node.fail(
            f"Unrecognized format version: {version}. "
            f"{_LEGACY_ONLY_30}; write `kind:`/`spec:` documents instead."
        )


def _component(item: Node, key: str) -> Component:
    return _endpoint(item) if key == "endpoint" else _ingress_or_egress(item, key)


def _endpoint(item: Node) -> Component:
    """`- endpoint: {meta: {kind}, spec}`; kind `http` means io.statefun.endpoints.v1/http."""
    entry = item.require("endpoint", "endpoint: {meta: {kind: http}, spec: {...}}")
    meta = entry.require("meta", "meta: {kind: http}")
    kind_node = meta.require("kind", "kind: http")
    kind = _kind(kind_node)
    spec = entry.require(
        "spec", "spec: {functions: example/*, urlPathTemplate: http://localhost:8000/statefun}"
    )
    return Component(kind_node, spec, kind, entry.line)


def _ingress_or_egress(item: Node, key: str) -> Component:
    """`- ingress|egress: {meta: {type, id}, spec}`; meta.id is copied into the spec as `id`."""
    entry = item.require(
        key, f"{key}: {{meta: {{type: io.statefun.kafka/{key}, id: example/{key}}}, spec: {{...}}}}"
    )
    meta = entry.require("meta", f"meta: {{type: io.statefun.kafka/{key}, id: example/{key}}}")
    kind_node = meta.require("type", f"type: io.statefun.kafka/{key}")
    id_node = meta.require("id", f"id: example/{key}")
    id_node.text(strict=True, example=f"id: example/{key}")
    spec = entry.require("spec", "spec: {...}")
    spec.mapping("spec: {address: kafka:9092}")
    with_id = Node({**spec.value, "id": id_node}, None, spec.line, spec.path, spec.file)
    return Component(kind_node, with_id, _kind(kind_node), entry.line)


def _kind(node: Node) -> TypeName:
    text = node.text(strict=True)
    return (
        TypeName.parse(LEGACY_KINDS[text])
        if text in LEGACY_KINDS
        else node.typename("io.statefun.kafka/ingress", strict=True)
    )
