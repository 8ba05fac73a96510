"""Say it loudly when the recorded cases are missing: a skipped conformance suite must not
look like a passing one."""

from __future__ import annotations

from typing import Any

from tests.workflows.conformance.cases import CASES_DIR, CASES_PRESENT, ENV_VAR, MISSING_REASON


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CASES_PRESENT:
        return
    skipped = sum(
        1 for report in terminalreporter.stats.get("skipped", ())
        if isinstance(report.longrepr, tuple) and MISSING_REASON in str(report.longrepr[2])
    )
    if not skipped:
        return
    terminalreporter.write_sep(
        "!", f"States Language conformance cases not found at {CASES_DIR}: "
             f"{skipped} tests skipped", yellow=True, bold=True,
    )
    terminalreporter.write_line(
        f"They live in ../shared/conformance/asl next to the repository; set {ENV_VAR} to use "
        "another directory."
    )
