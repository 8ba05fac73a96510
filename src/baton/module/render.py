"""Render a module for a real StateFun 3.3 cluster (`baton build`).

baton-only documents are removed; workflows are bundled for the interpreter, which a real
cluster reaches as an ordinary remote function (served with `baton serve`); Lambda endpoints
that only baton can call get a clear error saying what a cluster can use instead.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from baton.diagnostics import ModuleError
from baton.module.kinds import (
    ASYNC_TRANSPORT,
    ENDPOINT_V2,
    LAMBDA_BRIDGE_TYPE,
    LAMBDA_ENDPOINT,
    LAMBDA_URL_TRANSPORT,
    RULES_KIND,
    WORKFLOW_KIND,
)
from baton.module.loader import load_module_text
from baton.module.yaml_nodes import warn_at


@dataclass(frozen=True, slots=True)
class Build:
    """What `baton build` produced."""

    module_yaml: str  # for /opt/statefun/modules/<app>/module.yaml
    workflows_yaml: str | None  # the bundled workflow documents, None when there are none
    workflow_ids: tuple[str, ...]


def render(path: Path, interpreter_url: str, endpoint_urls: Mapping[str, str] | None = None) -> Build:
    """Split a baton module into a StateFun-only module and the workflow bundle.

    `endpoint_urls` maps an endpoint's `urlPathTemplate` to the one the cluster uses (e.g. a
    laptop's http://127.0.0.1:8000/statefun to a Kubernetes service's http://orders-functions:8000/statefun).
    """
    yaml = YAML()
    yaml.preserve_quotes = True
    documents = [d for d in yaml.load_all(path.read_text()) if d is not None]
    kept, workflows = [], []
    for index, document in enumerate(documents):
        kind = str(document.get("kind", "")) if isinstance(document, dict) else ""
        line = document.lc.line + 1 if hasattr(document, "lc") else None
        if kind == str(WORKFLOW_KIND):
            workflows.append(document)
        elif kind == LAMBDA_ENDPOINT or _transport_type(document) == LAMBDA_URL_TRANSPORT:
            raise ModuleError(
                f"document {index + 1} ({kind}) calls Lambda in a way only baton can (direct "
                "Invoke or SigV4-signed Function URL). A real StateFun cluster can reach a Lambda "
                "through a Function URL with auth NONE or an API Gateway in front of it, as a plain "
                f"{ENDPOINT_V2} endpoint (see the official aws-lambda deployment "
                "example); change this document to that form before building",
                file=str(path), line=line, field="kind",
            )
        elif kind == RULES_KIND:
            warn_at(str(path), line, "kind", "data-quality rules are dropped: a StateFun cluster does "
                    "not check messages at ingress (validate in the producer or the function).")
        elif kind.startswith("baton."):
            continue  # other baton-only kinds have no cluster meaning
        else:
            _rewrite_url(document, endpoint_urls or {})
            kept.append(document)
    ids = tuple(str(w["spec"]["id"]) for w in workflows)
    for typename in ids + ((str(LAMBDA_BRIDGE_TYPE),) if workflows else ()):
        kept.append(
            {
                "kind": ENDPOINT_V2,
                "spec": {
                    "functions": typename,
                    "urlPathTemplate": interpreter_url,
                    "transport": {"type": ASYNC_TRANSPORT, "call": "16min"},
                },
            }
        )
    module_yaml = _dump(yaml, kept)
    load_module_text(module_yaml, f"{path} (built)", strict_statefun=True)  # must be valid there
    return Build(module_yaml, _dump(yaml, workflows) if workflows else None, ids)


def _rewrite_url(document: object, endpoint_urls: Mapping[str, str]) -> None:
    try:
        spec = document["spec"]  # type: ignore[index]
        template = spec["urlPathTemplate"]
    except (KeyError, TypeError):
        return
    if isinstance(template, str) and template in endpoint_urls:
        spec["urlPathTemplate"] = endpoint_urls[template]


def _transport_type(document: object) -> str:
    try:
        return str(document["spec"]["transport"]["type"])  # type: ignore[index]
    except (KeyError, TypeError):
        return ""


def _dump(yaml: YAML, documents: list) -> str:
    out = io.StringIO()
    yaml.dump_all(documents, out)
    return out.getvalue()
