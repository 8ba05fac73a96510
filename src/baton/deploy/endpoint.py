"""The module.yaml endpoint document for deployed functions, printed or written into a file.

Writing edits the file in place: the document that binds the same `functions` pattern is
replaced where it stands, or a new document is appended. Everything else (other documents,
comments, blank lines, indentation, quoting) stays byte for byte: documents are found by their
`---` separators, read with ruamel.yaml, and only the replaced document's own lines change.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from baton.deploy.errors import DeployError
from baton.module.kinds import ENDPOINT_V1, ENDPOINT_V2, LAMBDA_ENDPOINT, LAMBDA_URL_TRANSPORT

ENDPOINT_KINDS = (ENDPOINT_V1, ENDPOINT_V2, LAMBDA_ENDPOINT)

_SEPARATOR = re.compile(r"^(---|\.\.\.)(?=\s|$)(.*)$")


def url_endpoint(functions: str, url: str, region: str, auth: str) -> dict[str, Any]:
    """A v2 http endpoint for a Function URL; AWS_IAM URLs get baton's SigV4 transport."""
    spec: dict[str, Any] = {"functions": functions, "urlPathTemplate": url}
    if auth == "AWS_IAM":
        spec["transport"] = {"type": LAMBDA_URL_TRANSPORT, "region": region}
    return {"kind": ENDPOINT_V2, "spec": spec}


def direct_endpoint(functions: str, function_arn: str, qualifier: str, region: str
                    ) -> dict[str, Any]:
    """A `baton.endpoints.v1/lambda` document: the Invoke API with boto3 credentials."""
    return {
        "kind": LAMBDA_ENDPOINT,
        "spec": {"functions": functions, "functionName": function_arn, "qualifier": qualifier,
                 "region": region},
    }


def render(document: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold a URL or an ARN
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def write_module(path: Path, document: dict[str, Any]) -> str:
    """Add or replace the endpoint document for `document`'s functions; say which happened."""
    functions = document["spec"]["functions"]
    rendered = render(document)
    if not path.exists():
        _write(path, rendered)
        return "created"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DeployError(f"cannot read {path}: {error}") from None
    lines = text.splitlines(keepends=True)
    chunks = _documents(lines, path)
    matches = []
    for start, end in chunks:
        value = _load(lines[start:end], path, start)
        if isinstance(value, dict) and "module" in value and "kind" not in value:
            raise DeployError(
                f"{path} uses the legacy (StateFun 2.x) module format",
                "convert it to `kind:`/`spec:` documents, or add the endpoint by hand:\n"
                + rendered,
            )
        if (isinstance(value, dict) and value.get("kind") in ENDPOINT_KINDS
                and isinstance(value.get("spec"), dict)
                and value["spec"].get("functions") == functions):
            matches.append((start, end))
    if not matches:
        last_start, last_end = chunks[-1]  # after a trailing `---`, no other one is needed
        prefix = text if not text or text.endswith("\n") else text + "\n"
        new = prefix + ("---\n" if _content(lines[last_start:last_end]) else "") + rendered
        action = "added"
    else:
        dropped = set(matches[1:])  # later documents for the same functions: duplicates
        out: list[str] = []
        for index, (start, end) in enumerate(chunks):
            if (start, end) in dropped:
                continue  # with the separator before it (a duplicate is never the first)
            if index > 0:
                out.append(lines[start - 1])
            if (start, end) == matches[0]:
                first, last = _content_span(lines, start, end)
                out += lines[start:first]
                out.append(rendered)
                out += lines[last + 1:end]
            else:
                out += lines[start:end]
        new = "".join(out)
        action = "replaced" if new != text else "unchanged"
    _check(new, path)
    if new != text:
        _write(path, new)
    return action


def _documents(lines: list[str], path: Path) -> list[tuple[int, int]]:
    """Line ranges [start, end) of each document, separators excluded."""
    chunks, start = [], 0
    for index, line in enumerate(lines):
        match = _SEPARATOR.match(line.rstrip("\r\n"))
        if match:
            rest = match.group(2).strip()
            if rest and not rest.startswith("#"):
                raise DeployError(
                    f"{path}:{index + 1}: a document starts on its `---` line; baton edits "
                    "module files only when `---` stands alone on its line",
                    "move the content after `---` to the next line",
                )
            chunks.append((start, index))
            start = index + 1
    chunks.append((start, len(lines)))
    return chunks


def _content(lines: list[str]) -> bool:
    return any(_is_content(line) for line in lines)


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#") and not stripped.startswith("%")


def _content_span(lines: list[str], start: int, end: int) -> tuple[int, int]:
    indices = [i for i in range(start, end) if _is_content(lines[i])]
    return indices[0], indices[-1]


def _load(lines: list[str], path: Path, offset: int) -> Any:
    if not _content(lines):
        return None
    try:
        return YAML(typ="safe", pure=True).load("".join(lines))
    except YAMLError as error:
        raise DeployError(f"{path}: not valid YAML near line {offset + 1}: {error}") from None


def _check(text: str, path: Path) -> None:
    try:
        list(YAML(typ="safe", pure=True).load_all(text))
    except YAMLError as error:  # pragma: no cover - a bug in the editing above
        raise DeployError(f"editing {path} would produce invalid YAML: {error}") from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.baton-partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
