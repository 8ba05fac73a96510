"""The recorded cases: where they are, how they are read, and what a run of one gave.

The cases are data shared by several repositories, kept next to the checkout in
`../shared/conformance/asl` relative to the repository root (their README describes the
schema and the comparison rules). `BATON_ASL_CONFORMANCE` points elsewhere. When the directory
is absent every test that needs it is skipped with `MISSING_REASON`, and the conftest next to
this file says so once at the end of the run.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from baton.workflows.engine import Command, Execution

ENV_VAR = "BATON_ASL_CONFORMANCE"
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "conformance" / "asl"

# An explicit override wins even when it is wrong: falling back to the default would run
# different cases from the ones asked for.
CASES_DIR = Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else DEFAULT_DIR
CASES_PRESENT = CASES_DIR.is_dir()
MISSING_REASON = (
    f"States Language conformance cases not found at {CASES_DIR} "
    f"(they live in ../shared/conformance/asl next to the repository; set {ENV_VAR} to use "
    f"another directory)"
)

# Mark for every test that reads the recorded cases.
requires_cases = pytest.mark.skipif(not CASES_PRESENT, reason=MISSING_REASON)


@dataclass(frozen=True, slots=True)
class Case:
    """One recorded execution (schema: the cases' README.md)."""

    key: str  # "001-pass-result", "choice-operators/BooleanEquals-00"
    name: str
    definition: dict[str, Any]
    input: Any
    expected: dict[str, Any]
    lambdas: dict[str, str] = field(default_factory=dict)
    cause_match: str | None = None
    output_loose: tuple[tuple[tuple[str | int, ...], str], ...] = ()
    output_check: bool = True
    min_duration_s: float | None = None
    states_entered: tuple[str, ...] | None = None
    states_entered_order: str | None = None
    notes: str = ""

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> Case:
        entered = data.get("states_entered")
        return cls(
            key=key, name=data.get("name", key), definition=data["definition"],
            input=data.get("input"), expected=data["expected"],
            lambdas=dict(data.get("lambdas") or {}), cause_match=data.get("cause_match"),
            output_loose=tuple((tuple(item["path"]), item["match"])
                               for item in data.get("output_loose") or ()),
            output_check=data.get("output_check", True) is not False,
            min_duration_s=data.get("min_duration_s"),
            states_entered=tuple(entered) if entered is not None else None,
            states_entered_order=data.get("states_entered_order"),
            notes=data.get("notes", ""),
        )


@dataclass(slots=True)
class Outcome:
    """What one run of a case gave, however it was run (engine or runtime)."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    states_entered: list[str]
    duration: float  # seconds from start to end (virtual on the engine, real on the runtime)
    execution: Execution
    commands: list[Command] = field(default_factory=list)  # every command, in order


def load_case(path: Path) -> Case:
    return Case.from_json(path.stem, json.loads(path.read_text()))


def load_cases(root: Path) -> list[Case]:
    """The numbered cases (`NNN-name.json`), in order."""
    return [load_case(path) for path in sorted(root.glob("[0-9][0-9][0-9]-*.json"))]


def load_matrix(root: Path) -> list[Case]:
    """Every run of `matrix/*.json` (keyed `<file>/<name>`, `~N` for a repeated name)."""
    cases = []
    for path in sorted((root / "matrix").glob("*.json")):
        seen: Counter[str] = Counter()
        for data in json.loads(path.read_text())["cases"]:
            name = data.get("name", "case")
            seen[name] += 1
            suffix = f"~{seen[name]}" if seen[name] > 1 else ""
            cases.append(Case.from_json(f"{path.stem}/{name}{suffix}", data))
    return cases


@cache
def numbered() -> tuple[Case, ...]:
    """The numbered cases of CASES_DIR; none when it is absent (the tests are skipped)."""
    return tuple(load_cases(CASES_DIR)) if CASES_PRESENT else ()


@cache
def matrix() -> tuple[Case, ...]:
    """The matrix runs of CASES_DIR; none when it is absent (the tests are skipped)."""
    return tuple(load_matrix(CASES_DIR)) if CASES_PRESENT else ()
