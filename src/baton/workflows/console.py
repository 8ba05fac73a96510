"""The workflow pages of the web console, served by the workflow host (a runtime extension).

`/console/workflows` lists executions with their status; `/console/workflows/{ns}/{type}/{id}`
shows one in the spirit of the Step Functions console: the state machine as a graph (states
coloured by what happened to them, the path taken drawn bold), then each step with its input,
output, error and retries, read from the execution's history. Parallel branches and Map
iterations appear as their parent state in the graph and as their own rows in the steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from aiohttp import web

from baton.runtime.address import Address
from baton.runtime.api import RuntimeAPI
from baton.runtime.console import console_link, render_page
from baton.runtime.console.rendering import environment
from baton.workflows.definition import ChoiceState, StateMachine
from baton.workflows.execution import Execution
from baton.workflows.module_kind import WorkflowSpec
from baton.workflows.stored_execution import read_execution

PAGE_SIZE = 50
_NODE_W, _NODE_H, _GAP_X, _GAP_Y, _MARGIN = 168, 40, 28, 64, 48  # the margin holds bent edges


@dataclass(slots=True)
class Step:
    """One state entered once: what went in, what came out or went wrong, how often it retried."""

    state: str
    type: str
    run: str | None
    entered_at: float
    input: Any
    status: str = "running"  # running | succeeded | caught | failed
    output: Any = None
    error: str | None = None
    cause: str | None = None
    retries: int = 0
    ended_at: float | None = None


def steps_of(execution: Execution) -> list[Step]:
    """The execution's steps, in the order the states were entered."""
    steps: list[Step] = []
    open_steps: dict[tuple[str | None, str], Step] = {}
    failing: set[int] = set()  # steps whose latest attempt failed (an exit then is a Catch)
    for event in execution.history:
        kind, name, run = event["type"], event.get("name"), event.get("run")
        key = (run, name or "")
        if kind.endswith("StateEntered"):
            step = Step(name or "", kind[: -len("StateEntered")], run, event["timestamp"], event.get("input"))
            steps.append(step)
            open_steps[key] = step
            continue
        step_or_none = open_steps.get(key)
        if step_or_none is None:
            continue
        step = step_or_none
        if kind == "TaskFailed":
            step.error, step.cause = event.get("error"), event.get("cause")
            failing.add(id(step))
        elif kind == "TaskSucceeded":
            failing.discard(id(step))
        elif kind == "StateRetryScheduled":
            step.error = event.get("error", step.error)
            step.retries = event.get("retryCount", step.retries + 1)
            failing.discard(id(step))
        elif kind.endswith("StateExited"):
            step.status = "caught" if id(step) in failing else "succeeded"
            step.output, step.ended_at = event.get("output"), event["timestamp"]
        elif kind.endswith("StateFailed"):
            step.status, step.ended_at = "failed", event["timestamp"]
            step.error, step.cause = event.get("error", step.error), event.get("cause", step.cause)
    return steps


@dataclass(slots=True)
class Graph:
    """The top-level states laid out in rows, for an SVG."""

    width: int
    height: int
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def _transitions(machine: StateMachine) -> dict[str, list[tuple[str, str]]]:
    """Each state's outgoing transitions: (target, kind) with kind next | choice | default | catch."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, state in machine.states.items():
        edges: list[tuple[str, str]] = []
        if state.next:
            edges.append((state.next, "next"))
        if isinstance(state, ChoiceState):
            edges += [(rule["Next"], "choice") for rule in state.choices if "Next" in rule]
            if state.default:
                edges.append((state.default, "default"))
        edges += [(catcher.next, "catch") for catcher in getattr(state, "catch", ())]
        out[name] = edges
    return out


def _rows(start: str, successors: dict[str, list[str]]) -> dict[str, int]:
    """Each state's row: the longest path to it from `start`, loops (back edges) left out, so
    every forward transition points down."""
    back: set[tuple[str, str]] = set()
    order: list[str] = []  # reverse post-order: a topological order of the forward edges
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        visiting.add(name)
        for target in successors.get(name, ()):
            if target in visiting:
                back.add((name, target))
            elif target not in done:
                visit(target)
        visiting.discard(name)
        done.add(name)
        order.append(name)

    visit(start)
    depth = {start: 0}
    for name in reversed(order):
        for target in successors.get(name, ()):
            if (name, target) not in back:
                depth[target] = max(depth.get(target, 0), depth[name] + 1)
    return depth


def layout(machine: StateMachine, steps: list[Step]) -> Graph:
    """Rows by distance from StartAt; states coloured by their last top-level step."""
    transitions = _transitions(machine)
    successors = {n: [t for t, _ in e if t in machine.states] for n, e in transitions.items()}
    depth = _rows(machine.start_at, successors)
    for name in machine.states:  # unreachable ones are refused at load; keep the layout total
        depth.setdefault(name, max(depth.values()) + 1)
    rows: dict[int, list[str]] = {}
    for name, row in depth.items():
        rows.setdefault(row, []).append(name)
    widest = max(len(names) for names in rows.values())
    width = _MARGIN * 2 + widest * _NODE_W + (widest - 1) * _GAP_X
    top_steps = [s for s in steps if s.run is None]
    last: dict[str, Step] = {s.state: s for s in top_steps}
    path = [s.state for s in top_steps]
    taken = set(pairwise(path))
    position: dict[str, tuple[int, int]] = {}
    graph = Graph(width, _MARGIN * 2 + len(rows) * _NODE_H + (len(rows) - 1) * _GAP_Y)
    for row, names in sorted(rows.items()):
        row_width = len(names) * _NODE_W + (len(names) - 1) * _GAP_X
        left = (width - row_width) // 2
        for index, name in enumerate(names):
            x, y = left + index * (_NODE_W + _GAP_X), _MARGIN + row * (_NODE_H + _GAP_Y)
            position[name] = (x, y)
            step = last.get(name)
            graph.nodes.append({
                "name": name, "type": machine.states[name].type, "x": x, "y": y,
                "w": _NODE_W, "h": _NODE_H, "status": step.status if step else "not-entered",
                "visits": path.count(name),
            })
    for source, edges in transitions.items():
        for target, kind in edges:
            if source not in position or target not in position:
                continue
            (sx, sy), (tx, ty) = position[source], position[target]
            x1, y1 = sx + _NODE_W // 2, sy + _NODE_H
            x2, y2 = tx + _NODE_W // 2, ty
            if ty <= sy:  # a loop back up: around the right side
                x1, y1, x2, y2 = sx + _NODE_W, sy + _NODE_H // 2, tx + _NODE_W, ty + _NODE_H // 2
                bend = max(x1, x2) + 40
                d = f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
            elif ty - sy > _NODE_H + _GAP_Y:  # skips a row: around the left, clear of its states
                x1, y1, x2, y2 = sx, sy + _NODE_H // 2, tx, ty + _NODE_H // 2
                bend = min(x1, x2) - 40
                d = f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
            else:
                mid = (y1 + y2) / 2
                d = f"M{x1},{y1} C{x1},{mid} {x2},{mid} {x2},{y2}"
            graph.edges.append({"d": d, "kind": kind, "taken": (source, target) in taken})
    return graph


def workflow_console_routes(workflows: list[WorkflowSpec], runtime: RuntimeAPI) -> list[web.RouteDef]:
    env = environment("baton.workflows")
    by_type = {str(spec.id): spec for spec in workflows}

    async def listing(request: web.Request) -> web.Response:
        prefix = request.query.get("prefix", "")
        sections = []
        for spec in workflows:
            rows = []
            for address in runtime.address_page(spec.id, prefix, None, PAGE_SIZE):
                stored = read_execution(runtime, address)
                if stored is not None:
                    rows.append((address, stored.execution))
            sections.append((spec, rows))
        return render_page(request, env, "executions.html", title="Workflow executions",
                           sections=sections, prefix=prefix, page_size=PAGE_SIZE)

    async def execution(request: web.Request) -> web.Response:
        info = request.match_info
        address = Address(info["namespace"], info["type"], info["id"])
        spec = by_type.get(str(address.function_type))
        stored = read_execution(runtime, address) if spec is not None else None
        if spec is None or stored is None:
            return render_page(request, env, "execution_missing.html", title="No such execution",
                               address=address, status=404)
        steps = steps_of(stored.execution)
        return render_page(
            request, env, "execution.html", title=f"Execution {address.id}", address=address,
            spec=spec, execution=stored.execution, steps=steps, graph=layout(spec.machine, steps),
            callers=stored.callers, parked=runtime.parked().get(address),
        )

    return [
        web.get("/console/workflows", listing, name=console_link("Workflows")),
        web.get("/console/workflows/{namespace}/{type}/{id}", execution),
    ]
