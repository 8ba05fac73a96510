"""`baton workflows run`: one execution on an embedded runtime, Lambda handlers run locally."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

HANDLERS = '''
class OutOfCoffee(Exception):
    pass


def double(event, context):
    return {"value": event["value"] * 2}


def fail(event, context):
    raise OutOfCoffee("the pot is empty")
'''

MACHINE = """
Comment: a bare state machine in YAML
StartAt: Double
States:
  Double:
    Type: Task
    Resource: double                      # a Lambda function name
    Next: Fail
  Fail:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:111111111111:function:fail
    Catch: [{ErrorEquals: [OutOfCoffee], ResultPath: $.caught, Next: Done}]
    End: true
  Done: {Type: Pass, End: true}
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "baton.cli", "workflows", "run", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_run_a_bare_machine_with_local_lambdas(tmp_path):
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tmp_path / "machine.yaml").write_text(MACHINE)
    handlers = tmp_path / "handlers.py"
    done = _run(str(tmp_path / "machine.yaml"), "--input", '{"value": 21}',
                "--lambda", f"double={handlers}:double", "--lambda", f"fail={handlers}:fail")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "SUCCEEDED"
    assert result["output"]["value"] == 42
    assert result["output"]["caught"]["Error"] == "OutOfCoffee"
    assert json.loads(result["output"]["caught"]["Cause"])["errorMessage"] == "the pot is empty"


def test_a_broken_machine_is_reported_with_its_line(tmp_path):
    (tmp_path / "machine.yaml").write_text(MACHINE.replace("Next: Done", "Next: Nowhere"))
    done = _run(str(tmp_path / "machine.yaml"))
    assert done.returncode == 1
    assert f"{tmp_path / 'machine.yaml'}:12" in done.stderr and "Nowhere" in done.stderr
