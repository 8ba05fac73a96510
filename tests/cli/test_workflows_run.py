"""`baton workflows run` ends cleanly: no traceback, no fixed port, no hang on a failing interpreter."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.conftest import ROOT

# Valid JSON: the emoji as JSON writes it, a UTF-16 surrogate pair (YAML reads each half alone).
EMOJI_MACHINE = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "\\ud83c\\udd97", "End": true}}}'


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "baton.cli", "workflows", "run", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def test_a_surrogate_pair_in_a_json_definition_is_one_character(tmp_path):
    (tmp_path / "machine.json").write_text(EMOJI_MACHINE)
    done = _run(str(tmp_path / "machine.json"), timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == "\U0001f197"


def test_a_lone_surrogate_in_a_definition_is_a_located_error(tmp_path):
    (tmp_path / "machine.json").write_text(EMOJI_MACHINE.replace("\\udd97", ""))
    done = _run(str(tmp_path / "machine.json"), timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and f"{tmp_path / 'machine.json'}:1" in done.stderr
    assert "surrogate" in done.stderr and "Traceback" not in done.stderr


def test_an_interpreter_failure_ends_the_run_with_an_error(tmp_path):
    # StringToJson makes a lone surrogate: the execution's state cannot be encoded as UTF-8.
    (tmp_path / "machine.yaml").write_text(
        "StartAt: A\n"
        "States:\n"
        "  A: {Type: Pass, Parameters: {x.$: States.StringToJson($.s)}, End: true}\n"
    )
    done = _run(str(tmp_path / "machine.yaml"), "--input", json.dumps({"s": '"\\ud800"'}), timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "FAILED" and "UnicodeEncodeError" in result["cause"]
    assert "Traceback" not in done.stderr


def test_a_definition_error_is_a_clean_error(tmp_path):
    (tmp_path / "machine.json").write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
    done = _run(str(tmp_path / "machine.json"), timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "'B'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_one_off_run_does_not_bind_the_modules_ports(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "module.yaml").write_text(
            f"kind: io.statefun.playground.v1/ingress\nspec: {{port: {port}}}\n---\n"
            f"kind: io.statefun.playground.v1/egress\nspec: {{port: {port}, topics: [out]}}\n---\n"
            "kind: baton.workflows.v1/workflow\n"
            "spec:\n"
            "  id: demo/flow\n"
            "  definition: {StartAt: A, States: {A: {Type: Pass, Result: done, End: true}}}\n"
        )
        done = _run(str(tmp_path / "module.yaml"), timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == "done"
