"""The README's "Testing your functions" example runs, as a user runs it: its own file, pytest,
the plugin found through its entry point."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Testing your functions"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python example in the README's Testing section"
    return match.group(1)


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_greeter=readme_example())
    # In-process: the plugin comes from the entry point, as in a user's project.
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
