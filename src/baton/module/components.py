"""A module document as StateFun reads it: a component (`kind` + `spec`), and what parsing it gives.

Every kind's parser is a `ComponentParser`: it reads the `spec` node of one component and returns
the typed spec together with the key StateFun would register it under, so that the loader can
reject a second binding of the same function type, ingress or egress (`putAndThrowIfPresent`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from baton.module.specs import (
    EgressSpec,
    ExtensionDocument,
    HttpEndpointSpec,
    IngressSpec,
    LambdaEndpointSpec,
    RuleSetSpec,
    SourceLocation,
)
from baton.module.typename import TypeName
from baton.module.yaml_nodes import Node


@dataclass(frozen=True, slots=True)
class Component:
    """A `kind` + `spec` pair, from a document or from a legacy list item."""

    kind_node: Node
    spec: Node
    kind: TypeName
    line: int


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed document and the binding key StateFun would register for it."""

    spec: (
        HttpEndpointSpec | LambdaEndpointSpec | IngressSpec | EgressSpec | ExtensionDocument
        | RuleSetSpec
    )
    binding: tuple[str, str] | None = None  # ("function" | "ingress" | "egress", key)
    binding_node: Node | None = None  # where the key is written, for the duplicate error


# (spec node, kind as written, where the document starts) -> the parsed document
ComponentParser = Callable[[Node, str, SourceLocation], Parsed]
