"""The conformance harness itself: where it finds the cases, the in-process Lambda runtime, the
virtual clock, and the comparison rules (a comparator that accepts everything would make the
conformance suite moot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.workflows.conformance import cases
from tests.workflows.conformance.cases import Case, numbered, requires_cases
from tests.workflows.conformance.compare import compare
from tests.workflows.conformance.lambdas import LambdaSimulator
from tests.workflows.conformance.on_engine import START_TIME, run_case

ARN = "arn:aws:lambda:us-east-1:111111111111:function:"


def case(**fields: Any) -> Case:
    data = {"definition": {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}, "input": {},
            "expected": {"status": "SUCCEEDED", "output": {}, "error": None, "cause": None},
            **fields}
    return Case.from_json("t", data)


def lambda_error(message: str, kind: str = "Exception") -> str:
    return json.dumps({"errorMessage": message, "errorType": kind, "requestId": "<uuid:1>",
                       "stackTrace": ["whatever"]})


# --- LambdaSimulator ------------------------------------------------------------------------


def test_sleep_advances_the_virtual_clock_wherever_time_is_imported() -> None:
    lambdas = LambdaSimulator({
        "a": "import time\ndef handler(event, context):\n    time.sleep(7)\n    return time.time()",
        "b": "from time import sleep\ndef handler(event, context):\n    sleep(2)\n    return 1",
        "c": "def handler(event, context):\n    import time\n    time.sleep(3)\n"
             "    return context.get_remaining_time_in_millis()",
    })
    result = lambdas.invoke(ARN + "a", {}, 100.0)
    assert (result.output, result.duration) == (107.0, 7.0)
    assert lambdas.invoke(ARN + "a", {}, 500.0).output == 507.0  # the next invocation's clock
    assert lambdas.invoke(ARN + "b", {}, 0.0).duration == 2.0
    assert lambdas.invoke(ARN + "c", {}, 0.0, timeout=10).output == 7000


def test_results_errors_and_payload_conventions() -> None:
    lambdas = LambdaSimulator({
        "raw": "def handler(e, c):\n    return b'not json'",
        "json_bytes": "def handler(e, c):\n    return b'{\"a\": [1]}'",
        "text": "def handler(e, c):\n    return 'plain'",
        "boom": "class Oops(Exception):\n    pass\n\ndef handler(e, c):\n    raise Oops('bad', 1)",
        "odd": "def handler(e, c):\n    return {1, 2}",
        "echo": "def handler(e, c):\n    return e",
    })
    assert lambdas.invoke(ARN + "raw", {}, 0).output == "not json"
    assert lambdas.invoke(ARN + "json_bytes", {}, 0).output == {"a": [1]}
    assert lambdas.invoke(ARN + "text", {}, 0).output == "plain"
    failed = lambdas.invoke(ARN + "boom", {}, 0)
    assert failed.cause is not None
    payload = json.loads(failed.cause)
    assert failed.error == "Oops"
    assert (payload["errorType"], payload["errorMessage"]) == ("Oops", "('bad', 1)")
    assert payload["stackTrace"] == ['  File "/var/task/handler.py", line 5, in handler\n'
                                     "    raise Oops('bad', 1)\n"]
    assert lambdas.invoke(ARN + "odd", {}, 0).error == "Runtime.MarshalError"
    assert lambdas.invoke(ARN + "echo:prod", [1.5, None], 0).output == [1.5, None]  # qualifier
    wrapped = lambdas.invoke("arn:aws:states:::lambda:invoke",
                             {"FunctionName": ARN + "echo", "Payload": {"x": 1}}, 0)
    assert wrapped.output["Payload"] == {"x": 1} and wrapped.output["StatusCode"] == 200
    assert lambdas.invoke(ARN + "missing", {}, 0).error == "States.TaskFailed"


# --- run_case -------------------------------------------------------------------------------


def test_run_case_uses_virtual_time_for_waits_and_sleeping_lambdas() -> None:
    outcome = run_case(case(
        definition={"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "T"},
            "T": {"Type": "Task", "Resource": ARN + "slow", "End": True},
        }},
        lambdas={"slow": "import time\ndef handler(e, c):\n    time.sleep(60)\n    return 'ok'"},
    ))
    assert (outcome.status, outcome.output, outcome.duration) == ("SUCCEEDED", "ok", 3660.0)
    assert outcome.execution.end_time == START_TIME + 3660


def test_run_case_round_trip_and_observer() -> None:
    seen = []
    outcome = run_case(case(definition={"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "End": True}}}), roundtrip=True,
        observe=lambda execution, commands: seen.append((execution.status, len(commands))))
    assert outcome.status == "SUCCEEDED"
    assert seen == [("RUNNING", 1), ("SUCCEEDED", 1)]


# --- compare --------------------------------------------------------------------------------


def outcome_of(**overrides: Any):
    outcome = run_case(case())
    for key, value in overrides.items():
        setattr(outcome, key, value)
    return outcome


def test_compare_is_strict_about_json_types() -> None:
    def diff(actual: Any, expected: Any) -> list[str]:
        recorded = case(expected={"status": "SUCCEEDED", "output": expected, "error": None,
                                  "cause": None}, states_entered=None)
        return compare(recorded, outcome_of(output=actual, states_entered=[]))

    assert diff({"a": [1, "x", None, 2.5]}, {"a": [1, "x", None, 2.5]}) == []
    assert diff(True, 1) and diff(1, 1.0) and diff(0, None) and diff("1", 1)
    assert diff({"a": 1}, {"a": 1, "b": 2}) and diff({"a": 1, "b": 2}, {"a": 1})
    assert diff([1, 2], [2, 1]) and diff([1], [1, 1])


def test_compare_loose_paths_and_cause_rules() -> None:
    loose = [{"path": ["Cause"], "match": "lambda_error"}, {"path": ["id"], "match": "masked"},
             {"path": ["n"], "match": "masked"}]
    recorded = case(expected={"status": "SUCCEEDED", "error": None, "cause": None,
                              "output": {"Cause": lambda_error("m"), "id": "generated-uuid",
                                         "n": "RandomNumberGenerated"}},
                    output_loose=loose)
    good = {"Cause": lambda_error("m").replace("<uuid:1>", "x"),
            "id": "6fedb32f-18c5-4d7f-a4cb-91e7a20059bc", "n": 3}
    assert compare(recorded, outcome_of(output=good, states_entered=[])) == []
    for bad in ({**good, "Cause": lambda_error("other")}, {**good, "id": "nope"},
                {**good, "n": "3"}):
        assert compare(recorded, outcome_of(output=bad, states_entered=[]))

    failed = {"status": "FAILED", "output": None, "error": "States.Runtime",
              "cause": "In state 'x' the input '<json-input:1>' is bad"}
    text = case(expected=failed, cause_match="aws_text")
    assert compare(text, outcome_of(status="FAILED", output=None, error="States.Runtime",
                                    cause="In state 'x' the input '{\"a\":1}' is bad",
                                    states_entered=[])) == []
    assert compare(text, outcome_of(status="FAILED", output=None, error="States.Runtime",
                                    cause="In state 'y' the input '{}' is bad", states_entered=[]))
    masked = case(expected={**failed, "cause": "<ArnPart_0idx>"}, cause_match="masked")
    assert compare(masked, outcome_of(status="FAILED", output=None, error="States.Runtime",
                                      cause="anything", states_entered=[])) == []


def test_compare_states_entered_and_duration() -> None:
    exact = case(states_entered=["A", "B"], states_entered_order="exact", min_duration_s=2)
    bag = case(states_entered=["A", "B"], states_entered_order="multiset")
    assert compare(exact, outcome_of(states_entered=["A", "B"], duration=2.0)) == []
    assert compare(exact, outcome_of(states_entered=["B", "A"], duration=2.0))
    assert compare(exact, outcome_of(states_entered=["A", "B"], duration=1.9))
    assert compare(bag, outcome_of(states_entered=["B", "A"])) == []
    assert compare(bag, outcome_of(states_entered=["B", "A", "A"]))
    assert compare(case(), outcome_of(status="FAILED"))


def test_compare_masks_keep_their_shape() -> None:
    """A masked random number is an integer; a masked state input in AWS text is JSON."""
    recorded = case(expected={"status": "SUCCEEDED", "error": None, "cause": None,
                              "output": {"n": "RandomNumberGenerated"}},
                    output_loose=[{"path": ["n"], "match": "masked"}])
    assert compare(recorded, outcome_of(output={"n": 3}, states_entered=[])) == []
    assert compare(recorded, outcome_of(output={"n": 3.0}, states_entered=[]))
    assert compare(recorded, outcome_of(output={"n": True}, states_entered=[]))

    failed = {"status": "FAILED", "output": None, "error": "States.Runtime",
              "cause": "the input '<json-input:1>' is bad"}
    text = case(expected=failed, cause_match="aws_text")

    def cause(actual: str) -> list[str]:
        return compare(text, outcome_of(status="FAILED", output=None, error="States.Runtime",
                                        cause=actual, states_entered=[]))

    assert cause("the input '[1, {\"a\": null}]' is bad") == []
    assert cause("the input 'not json' is bad")
    assert cause("the input '' is bad")


@requires_cases
def test_comparison_catches_a_wrong_output_of_a_recorded_case() -> None:
    recorded = next(c for c in numbered() if c.name == "pass-result")
    outcome = run_case(recorded)
    assert compare(recorded, outcome) == []
    outcome.output = {"Arg1": "something else"}
    assert compare(recorded, outcome)


def test_function_names_come_from_the_canonical_lambda_arn_parser() -> None:
    lambdas = LambdaSimulator({"echo": "def handler(e, c):\n    return e"})
    invoke = "arn:aws:states:::lambda:invoke"
    # A Task resource names a function only as a full Lambda ARN (qualified or not).
    assert lambdas.function_for(ARN + "echo", 1) == ("echo", 1, False)
    assert lambdas.function_for(ARN + "echo:$LATEST", 1) == ("echo", 1, False)
    assert lambdas.function_for("echo", 1) == (None, 1, False)
    assert lambdas.function_for("arn:aws:states:::sqs:sendMessage", 1) == (None, 1, False)
    # lambda:invoke takes any FunctionName the Invoke API takes; other text is kept as is.
    for function_name in ("echo", "echo:prod", "111111111111:function:echo", ARN + "echo"):
        task_input = {"FunctionName": function_name, "Payload": 2}
        assert lambdas.function_for(invoke, task_input) == ("echo", 2, True)
    masked = {"FunctionName": "<lambda_function_name>", "Payload": 2}
    assert lambdas.function_for(invoke, masked) == ("<lambda_function_name>", 2, True)
    assert lambdas.function_for(invoke, "not an object") == (None, "not an object", True)


# --- where the cases are ------------------------------------------------------------------


def test_cases_are_found_next_to_the_repository_checkout() -> None:
    assert (cases.REPO_ROOT / "pyproject.toml").is_file()
    assert cases.REPO_ROOT.parent / "shared" / "conformance" / "asl" == cases.DEFAULT_DIR
    if not os.environ.get(cases.ENV_VAR):
        assert cases.CASES_DIR == cases.DEFAULT_DIR
    assert str(cases.CASES_DIR) in cases.MISSING_REASON


def test_missing_cases_are_skipped_loudly(tmp_path: Path) -> None:
    """Pointed at a directory that does not exist, every conformance test is skipped and the run
    ends with one line naming the directory and the number of skipped tests."""
    missing = tmp_path / "no-such-dir"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/workflows/conformance/test_on_engine.py",
         "tests/workflows/conformance/test_through_runtime.py"],
        cwd=cases.REPO_ROOT, env={**os.environ, cases.ENV_VAR: str(missing)},
        capture_output=True, text=True, timeout=120, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "5 skipped" in output, output  # the count test, three parametrized, the runtime run
    line = f"States Language conformance cases not found at {missing}: 5 tests skipped"
    assert output.count(line) == 1, output
