"""The `baton.workflows.v1/workflow` module document: a States Language workflow as a function type.

```yaml
kind: baton.workflows.v1/workflow
spec:
  id: orders/fulfillment          # the workflow's function type; one execution per address id
  definition: {StartAt: ..., States: {...}}    # Amazon States Language, written in YAML
  resultEgress:                   # optional: publish each finished execution's result
    egress: io.statefun.playground/egress
    topic: fulfillment
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baton.diagnostics import DefinitionError, ModuleError
from baton.module.kinds import WORKFLOW_KIND
from baton.module.specs import ExtensionDocument, ModuleSpec, SourceLocation
from baton.module.typename import TypeName
from baton.workflows.definition import StateMachine, parse_state_machine

_KEYS = ("id", "definition", "resultEgress")


@dataclass(frozen=True, slots=True)
class ResultEgress:
    egress: TypeName
    topic: str


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    """One workflow: its function type, its parsed state machine, where results go."""

    id: TypeName
    machine: StateMachine
    definition: dict[str, Any]
    result_egress: ResultEgress | None = None
    source: SourceLocation | None = None


def workflows_of(module: ModuleSpec) -> list[WorkflowSpec]:
    """Parse every workflow document of a module (errors name file and line)."""
    return [_parse(doc) for doc in module.extensions if doc.kind == WORKFLOW_KIND]


def check_result_egresses(module: ModuleSpec, workflows: list[WorkflowSpec]) -> None:
    """Every `resultEgress` must name an egress the module declares."""
    for workflow in workflows:
        target = workflow.result_egress
        if target is not None and module.egress(target.egress) is None:
            declared = ", ".join(str(e.id) for e in module.egresses) or "none"
            raise ModuleError(
                f"`resultEgress` names egress {target.egress}, which is not declared "
                f"(declared: {declared}); declare it or remove resultEgress",
                file=workflow.source.file if workflow.source else None,
                line=workflow.source.line if workflow.source else None,
                field="spec.resultEgress.egress",
            )


def _parse(doc: ExtensionDocument) -> WorkflowSpec:
    file = doc.source.file if doc.source else "<module>"

    def fail(path: tuple[str | int, ...], message: str) -> ModuleError:
        line = doc.lines.get(path, doc.source.line if doc.source else None)
        field = "spec" + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in path)
        return ModuleError(message, file=file, line=line, field=field)

    spec = doc.spec
    if not isinstance(spec, dict):
        raise fail((), "a workflow's spec must be a mapping with `id` and `definition`")
    for key in spec:
        if key not in _KEYS:
            raise fail((key,), f"unknown key `{key}`; a workflow spec has {', '.join(_KEYS)}")
    try:
        workflow_id = TypeName.parse(str(spec.get("id", "")))
    except ValueError as error:
        raise fail(("id",), f"{error} Write e.g. `id: orders/fulfillment`.") from None
    definition = spec.get("definition")
    if not isinstance(definition, dict):
        raise fail(("definition",), "`definition` must be a States Language state machine "
                   "(a mapping with StartAt and States)")
    try:
        machine = parse_state_machine(
            definition,
            locate=lambda path: doc.lines.get(("definition", *path)),
            file=file,
        )
    except DefinitionError as error:
        raise ModuleError(
            error.message, file=error.file, line=error.line,
            field="spec.definition" + _dotted(error.path),
        ) from None
    return WorkflowSpec(workflow_id, machine, definition, _result_egress(spec, fail), doc.source)


def _dotted(path: Any) -> str:
    if not path:
        return ""
    if isinstance(path, str):
        return "." + path
    return "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in path)


def _result_egress(spec: dict[str, Any], fail) -> ResultEgress | None:
    raw = spec.get("resultEgress")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("egress"), str):
        raise fail(("resultEgress",), "`resultEgress` needs `egress: <namespace>/<name>` "
                   "and `topic: <name>`")
    try:
        egress = TypeName.parse(raw["egress"])
    except ValueError as error:
        raise fail(("resultEgress", "egress"), str(error)) from None
    return ResultEgress(egress, str(raw.get("topic", "")))
