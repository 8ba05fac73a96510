"""The README's "Testing your functions" example runs, as a user runs it: its own file, pytest,
the plugin found through its entry point."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Testing your functions"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python example in the README's Testing section"
    return match.group(1)


def test_the_readme_example_passes(tmp_path) -> None:
    (tmp_path / "test_greeter.py").write_text(readme_example())
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_greeter.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout
