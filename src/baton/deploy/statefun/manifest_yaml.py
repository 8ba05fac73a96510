"""YAML out of plain dicts for manifests and compose files: block style, multi-line text kept
readable as literal blocks (a ConfigMap's module.yaml reads as it was written)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString


def literal(text: str) -> LiteralScalarString:
    return LiteralScalarString(text)


def dump_all(documents: list[Any]) -> str:
    yaml = YAML()
    yaml.width = 4096  # long commands stay on one line
    out = io.StringIO()
    yaml.dump_all(documents, out)
    return out.getvalue()
