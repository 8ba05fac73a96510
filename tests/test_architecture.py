"""baton's packages import each other one way only: no cycles between them.

Every module under src/baton is read with `ast` (nothing is imported) and mapped to its package
under baton (`baton.runtime.store` → runtime, `baton.tasks` → tasks). Each `import` makes an
arrow, lazy and TYPE_CHECKING imports included: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "baton"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> Iterator[str]:
    """The absolute names of the modules a file imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def _package(module: str) -> str | None:
    """The package under baton a module belongs to (None for `baton` itself and outsiders)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "baton" and len(parts) > 1 else None


def package_graph() -> dict[str, dict[str, set[str]]]:
    """{package: {imported package: the files that import it}}."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        source = _package(module)
        if source is None:
            continue
        arrows = graph.setdefault(source, {})
        for imported in _imports(path, module):
            target = _package(imported)
            if target is not None and target != source:
                arrows.setdefault(target, set()).add(str(path.relative_to(SRC.parent)))
    return graph


def find_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One cycle of packages (first = last), or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(package: str) -> list[str] | None:
        if package in visiting:
            return [*visiting[visiting.index(package):], package]
        if package in done:
            return None
        visiting.append(package)
        for target in sorted(graph.get(package, {})):
            cycle = visit(target)
            if cycle:
                return cycle
        visiting.pop()
        done.add(package)
        return None

    for package in sorted(graph):
        cycle = visit(package)
        if cycle:
            return cycle
    return None


def _explain(graph: dict[str, dict[str, set[str]]], cycle: list[str]) -> str:
    lines = [" → ".join(cycle)]
    for source, target in pairwise(cycle):
        lines.append(f"  {source} → {target}: {', '.join(sorted(graph[source][target]))}")
    return "\n".join(lines)


def test_the_package_graph_has_no_cycle():
    graph = package_graph()
    assert {"cli", "module", "runtime", "workflows"} <= set(graph)  # the walk found the code
    cycle = find_cycle(graph)
    assert cycle is None, "baton's packages import each other in a circle:\n" + _explain(graph, cycle)


def test_the_runtime_knows_neither_its_extensions_nor_the_cli():
    arrows = package_graph()["runtime"]
    wrong = {"workflows", "cli"} & set(arrows)
    assert not wrong, {package: arrows[package] for package in wrong}


def test_a_cycle_is_found_and_named():
    graph = {"a": {"b": {"a/x.py"}}, "b": {"c": {"b/y.py"}}, "c": {"a": {"c/z.py"}}, "d": {}}
    cycle = find_cycle(graph)
    assert cycle == ["a", "b", "c", "a"]
    assert "c → a: c/z.py" in _explain(graph, cycle)
    assert find_cycle({"a": {"b": set()}, "b": {}}) is None
