"""The playground ingress and egress: `io.statefun.playground.v1/ingress` and `/egress` (§1.11).

Each is one HTTP port with a fixed id (`io.statefun.playground/ingress|egress`); the egress also
lists the topics functions publish to.
"""

from __future__ import annotations

import dataclasses

from baton.module.components import Parsed
from baton.module.fields import check_keys
from baton.module.specs import (
    ModuleSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
    SourceLocation,
)
from baton.module.yaml_nodes import Node

INGRESS_KEYS = ("port",)
EGRESS_KEYS = ("port", "topics")


def parse_ingress(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """An `io.statefun.playground.v1/ingress` document: `port`."""
    spec.mapping("port: 8090")
    check_keys(spec, INGRESS_KEYS)
    ingress = PlaygroundIngressSpec(port=_port(spec), kind=kind, source=source)
    return Parsed(ingress, ("ingress", str(ingress.id)), spec)


def parse_egress(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """An `io.statefun.playground.v1/egress` document: `port` and `topics`."""
    spec.mapping("port: 8091")
    check_keys(spec, EGRESS_KEYS)
    port = _port(spec)
    node = spec.require("topics", "topics: [greetings]")
    topics = [item.text(example="- greetings") for item in node.items("`topics: [greetings]`")]
    if not topics:
        node.fail(
            "`topics` must list at least one topic that functions publish to, "
            "e.g. `topics: [greetings]`."
        )
    for i, topic in enumerate(topics):
        if topic in topics[:i]:
            node.value[i].warn(f"topic `{topic}` is listed twice.")
    egress = PlaygroundEgressSpec(
        port=port, topics=tuple(dict.fromkeys(topics)), kind=kind, source=source
    )
    return Parsed(egress, ("egress", str(egress.id)), spec)


def _port(spec: Node) -> int:
    node = spec.require("port", "port: 8090")
    port = node.integer(example="8090", lo=0, hi=65535)
    return port  # 0 asks the OS for a free port: a baton addition, handy in tests


def on_free_ports(module: ModuleSpec) -> ModuleSpec:
    """The module with every playground ingress and egress on a free port (`port: 0`).

    For one-off runs and tests beside a running application: the module's fixed ports stay free.
    """
    return dataclasses.replace(
        module,
        ingresses=tuple(
            dataclasses.replace(i, port=0) if isinstance(i, PlaygroundIngressSpec) else i
            for i in module.ingresses
        ),
        egresses=tuple(
            dataclasses.replace(e, port=0) if isinstance(e, PlaygroundEgressSpec) else e
            for e in module.egresses
        ),
    )
