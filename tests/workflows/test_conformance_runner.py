"""The conformance runner itself: the in-process Lambda runtime, the virtual clock, and the
comparison rules (a comparator that accepts everything would make the conformance suite moot)."""

from __future__ import annotations

import json
from typing import Any

from baton.workflows.conformance import (
    START_TIME,
    Case,
    LambdaSimulator,
    compare,
    run_case,
)

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
