"""Load StateFun 3.3 module.yaml files into typed specs (statefun-reference §1).

StateFun reads module.yaml with Jackson: unknown keys are ignored, scalars are coerced into the
field types, and every problem surfaces as a Java exception at job startup. baton accepts the same
files, builds the dataclasses of `baton.module.specs`, and reports each problem with its file,
line and field, what was found and how to fix it. Unknown keys stay accepted, with a warning.

This module is the document loop: it splits files into components (`kind` + `spec`, §1.2, or
the entries of a legacy `version: "3.0"` module), hands each to the parser of its kind, collects
every problem across all files, and rejects bindings made twice. The kinds' parsers live in
their own modules (`endpoints`, `lambda_endpoint`, `kafka`, `kinesis`, `playground`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from baton.diagnostics import ModuleError, did_you_mean
from baton.module import endpoints, kafka, kinesis, lambda_endpoint, legacy, playground, rules
from baton.module.components import Component, ComponentParser, Parsed
from baton.module.fields import check_keys
from baton.module.kinds import (
    ENDPOINT_V1,
    ENDPOINT_V2,
    KAFKA_EGRESS,
    KAFKA_INGRESS,
    KINESIS_EGRESS,
    KINESIS_INGRESS,
    LAMBDA_ENDPOINT,
    PLAYGROUND_EGRESS,
    PLAYGROUND_INGRESS,
    RULES_KIND,
    STATEFUN_KINDS,
    is_baton_extension,
)
from baton.module.specs import (
    ExtensionDocument,
    HttpEndpointSpec,
    KafkaEgressSpec,
    KafkaIngressSpec,
    KinesisEgressSpec,
    KinesisIngressSpec,
    LambdaEndpointSpec,
    ModuleSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
    RuleSetSpec,
    SourceLocation,
)
from baton.module.typename import TypeName
from baton.module.yaml_nodes import Node, describe, documents, lines_of, to_plain, warn_at

__all__ = ["load_module", "load_module_text", "validate_application"]

T = TypeVar("T")

_PARSERS: dict[str, ComponentParser] = {
    ENDPOINT_V1: endpoints.parse_v1,
    ENDPOINT_V2: endpoints.parse_v2,
    KAFKA_INGRESS: kafka.parse_ingress,
    KAFKA_EGRESS: kafka.parse_egress,
    KINESIS_INGRESS: kinesis.parse_ingress,
    KINESIS_EGRESS: kinesis.parse_egress,
    PLAYGROUND_INGRESS: playground.parse_ingress,
    PLAYGROUND_EGRESS: playground.parse_egress,
}
# baton's own kinds with a typed spec (other `baton.*` kinds stay raw ExtensionDocuments)
_BATON_PARSERS: dict[str, ComponentParser] = {
    LAMBDA_ENDPOINT: lambda_endpoint.parse,
    RULES_KIND: rules.parse,
}

_ENVELOPE = (
    "(StateFun: Invalid ComponentJsonObject; components should be a JSON object with the required "
    "fields [kind] and [spec].)"
)
# Keys of any kind's spec: written at the top level of a document, they belong under `spec:`.
_SPEC_KEYS = frozenset(
    endpoints.V2_KEYS
    + endpoints.V1_KEYS
    + kafka.INGRESS_KEYS
    + kafka.EGRESS_KEYS
    + kinesis.INGRESS_KEYS
    + kinesis.EGRESS_KEYS
    + playground.EGRESS_KEYS
    + lambda_endpoint.KEYS
)


class _Loader:
    """Accumulates parsed documents and problems across files."""

    def __init__(self, strict_statefun: bool) -> None:
        self.strict = strict_statefun
        self.files: list[str] = []
        self.parsed: list[Parsed] = []
        self.errors: list[ModuleError] = []

    def add_text(self, text: str, file: str) -> None:
        self.files.append(file)
        try:
            found = documents(text, file)
        except ModuleError as error:
            self.errors.append(error)
            return
        if legacy.is_legacy(found):
            self._guard(self._add_legacy, found[0])
            return
        present = [doc for doc in found if not doc.is_null]
        if not present:
            warn_at(file, None, None, "the file holds no module documents.")
        for doc in present:
            self._guard(self._add_document, doc)

    def _guard(self, step: Callable[[T], None], arg: T) -> None:
        """Run one step; a problem is collected and loading goes on with the next step."""
        try:
            step(arg)
        except ModuleError as error:
            self.errors.append(error)

    def _add_document(self, doc: Node) -> None:
        self._bind(self._component(doc))

    def _add_legacy(self, root: Node) -> None:
        for read in legacy.components(root):
            self._guard(self._add_legacy_entry, read)

    def _add_legacy_entry(self, read: Callable[[], Component]) -> None:
        self._bind(read())

    def _component(self, doc: Node) -> Component:
        if not doc.is_map:
            doc.fail(
                "a module document must be a mapping with the keys `kind` and `spec`, "
                f"got {describe(doc)}. {_ENVELOPE}"
            )
        stray_version = (
            " This looks like a legacy `version:` module, "
            "which must be the only document in its file."
            if "version" in doc.value
            else ""
        )
        for key in ("kind", "spec"):
            if key not in doc.value:
                doc.missing(
                    key, f"Every document needs `kind:` and `spec:`.{stray_version} {_ENVELOPE}"
                )
        # StateFun ignores other top-level keys; a stray `id:` or `port:` usually belongs in spec.
        check_keys(doc, ("kind", "spec"), {key: " Put it under `spec:`." for key in _SPEC_KEYS})
        kind_node = doc.value["kind"]
        kind = kind_node.typename(ENDPOINT_V2)
        return Component(kind_node, doc.value["spec"], kind, kind_node.line)

    def _bind(self, component: Component) -> None:
        kind, spec = component.kind, component.spec
        source = SourceLocation(spec.file, component.line)
        parser = _PARSERS.get(str(kind)) or _BATON_PARSERS.get(str(kind))
        if self.strict:
            lambda_endpoint.reject_for_statefun(kind, component.kind_node, spec)
        if parser is None and kind.namespace.startswith("baton.endpoints."):
            component.kind_node.fail(
                f"unknown baton endpoint kind `{kind}`; baton's endpoint kind is "
                f"{LAMBDA_ENDPOINT}.{did_you_mean(str(kind), _BATON_PARSERS)}"
            )
        if parser is not None:
            self.parsed.append(parser(spec, str(kind), source))
        elif is_baton_extension(kind) and not self.strict:
            self.parsed.append(
                Parsed(ExtensionDocument(kind, to_plain(spec), source, lines_of(spec)))
            )
        else:
            component.kind_node.fail(self._unknown_kind(kind))

    def _unknown_kind(self, kind: TypeName) -> str:
        if is_baton_extension(kind):
            return (
                f"`{kind}` is a baton extension; a real StateFun cluster rejects it — run "
                "`baton build` to strip it (or load without strict_statefun)."
            )
        return (
            f"unknown kind `{kind}` (StateFun: An extension with type TypeName({kind.namespace}, "
            f"{kind.name}) does not exist.). Accepted kinds: {', '.join(STATEFUN_KINDS)}, and "
            f"`baton.*` extensions.{did_you_mean(str(kind), STATEFUN_KINDS)}"
        )


def _duplicates(parsed: list[Parsed]) -> list[ModuleError]:
    """StateFun's `putAndThrowIfPresent`, across every loaded file."""
    first_seen: dict[tuple[str, str], Node] = {}
    errors = []
    for item in parsed:
        if item.binding is None or item.binding_node is None:
            continue
        node = item.binding_node
        if (previous := first_seen.get(item.binding)) is not None:
            what, key = item.binding
            errors.append(
                ModuleError(
                    f"A binding for the key {key} was previously defined at "
                    f"{previous.file}:{previous.line}. Each function type, namespace wildcard, "
                    "ingress id and egress id can be bound only once across all module files; "
                    f"remove or rename one of the two {what} bindings.",
                    file=node.file,
                    line=node.line,
                    field=node.path or None,
                )
            )
        else:
            first_seen[item.binding] = node
    return errors


# The spec classes of each section of a ModuleSpec.
_ENDPOINTS = (HttpEndpointSpec, LambdaEndpointSpec)
_INGRESSES = (KafkaIngressSpec, KinesisIngressSpec, PlaygroundIngressSpec)
_EGRESSES = (KafkaEgressSpec, KinesisEgressSpec, PlaygroundEgressSpec)


def _finish(loader: _Loader) -> ModuleSpec:
    specs = [item.spec for item in loader.parsed]
    rule_sets = tuple(s for s in specs if isinstance(s, RuleSetSpec))
    egresses = tuple(s for s in specs if isinstance(s, _EGRESSES))
    errors = loader.errors + _duplicates(loader.parsed) + rules.check_rules(rule_sets, egresses)
    if errors:
        order = {file: i for i, file in enumerate(loader.files)}
        errors.sort(key=lambda e: (order.get(e.file or "", len(order)), e.line or 0))
        raise ModuleError.collected(errors)
    return ModuleSpec(
        endpoints=tuple(s for s in specs if isinstance(s, _ENDPOINTS)),
        ingresses=tuple(s for s in specs if isinstance(s, _INGRESSES)),
        egresses=egresses,
        extensions=tuple(s for s in specs if isinstance(s, ExtensionDocument)),
        rules=rule_sets,
        files=tuple(loader.files),
    )


def _module_file(path: Path) -> Path:
    """A directory stands for its `module.yaml`, as in StateFun's module directories."""
    return path / "module.yaml" if path.is_dir() else path


def load_module(
    paths: str | Path | Sequence[str | Path], *, strict_statefun: bool = False
) -> ModuleSpec:
    """Load and merge one or more module.yaml files (or directories holding one)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    loader = _Loader(strict_statefun)
    for given in paths:
        path = _module_file(Path(given))
        name = str(path) if path != Path(given) else str(given)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            loader.files.append(name)
            loader.errors.append(ModuleError("file not found; check the path.", file=name))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            loader.files.append(name)
            loader.errors.append(ModuleError(f"cannot read the file: {exc}", file=name))
            continue
        loader.add_text(text, name)
    return _finish(loader)


def load_module_text(
    text: str, filename: str = "<string>", *, strict_statefun: bool = False
) -> ModuleSpec:
    """Load module.yaml content given as a string (for tests and tools)."""
    loader = _Loader(strict_statefun)
    loader.add_text(text, filename)
    return _finish(loader)


def validate_application(module: ModuleSpec) -> None:
    """Whole-application startup checks of StateFun (statefun-reference §9 item 20)."""
    # StateFun also refuses to start without any ingress. baton always runs its own HTTP ingress,
    # so an application without a declared ingress is still reachable and is accepted here.
    if not module.endpoints:
        raise ModuleError(
            "There are no function providers defined. Add an endpoint document, e.g.\n"
            f"  kind: {ENDPOINT_V2}\n"
            "  spec:\n    functions: example/*\n"
            "    urlPathTemplate: http://localhost:8000/statefun",
            file=", ".join(module.files) or None,
        )
