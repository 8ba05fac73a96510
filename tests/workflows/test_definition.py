"""Load-time validation of state machine definitions."""

from __future__ import annotations

from typing import Any

import pytest

from baton.diagnostics import DefinitionError
from baton.workflows.definition import (
    MapState,
    ParallelState,
    PassState,
    TaskState,
    WaitState,
    parse_state_machine,
    parse_timestamp,
)


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def errors_of(definition: dict[str, Any], **options: Any) -> list[DefinitionError]:
    with pytest.raises(DefinitionError) as caught:
        parse_state_machine(definition, **options)
    assert caught.value.errors[0] is caught.value
    return caught.value.errors


def messages(definition: dict[str, Any]) -> str:
    return "\n".join(f"{e.field}: {e.message}" for e in errors_of(definition))


# --- what a parsed machine looks like -------------------------------------------------------


def test_parses_every_state_type_into_typed_objects() -> None:
    parsed = parse_state_machine({
        "Comment": "c", "Version": "1.0", "TimeoutSeconds": 60, "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": None, "ResultPath": None, "Next": "T"},
            "T": {"Type": "Task", "Resource": "fn/x", "TimeoutSecondsPath": "$.t",
                  "HeartbeatSeconds": 5, "Next": "W",
                  "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 0, "BackoffRate": 1.5,
                             "MaxDelaySeconds": 9, "JitterStrategy": "FULL"}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "W", "ResultPath": "$.e"}]},
            "W": {"Type": "Wait", "Seconds": 0, "Next": "Par"},
            "Par": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}]},
            "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 3, "Next": "C",
                  "Parameters": {"v.$": "$$.Map.Item.Value"},
                  "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}},
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True,
                                                 "Next": "S"}], "Default": "F"},
            "S": {"Type": "Succeed", "OutputPath": None},
            "F": {"Type": "Fail", "ErrorPath": "$.e", "Cause": "why"},
        },
    })
    assert (parsed.start_at, parsed.timeout_seconds, parsed.version) == ("P", 60, "1.0")
    p = parsed.states["P"]
    assert isinstance(p, PassState) and p.has_result and p.result is None and p.result_path is None
    t = parsed.states["T"]
    assert isinstance(t, TaskState) and t.timeout_seconds_path == "$.t" and t.heartbeat_seconds == 5
    assert t.retry[0].max_attempts == 0 and t.retry[0].jitter_strategy == "FULL"
    assert t.catch[0].result_path == "$.e" and t.catch[0].next == "W"
    assert isinstance(parsed.states["W"], WaitState) and parsed.states["W"].seconds == 0
    par = parsed.states["Par"]
    assert isinstance(par, ParallelState) and par.branches[0].start_at == "B"
    m = parsed.states["M"]
    assert isinstance(m, MapState) and m.item_selector == {"v.$": "$$.Map.Item.Value"}
    assert m.max_concurrency == 3 and m.processor.start_at == "I"
    # blocks are numbered in pre-order: the machine, then nested blocks as they appear
    assert [b.start_at for b in parsed.blocks] == ["P", "B", "I"]
    assert all(b.index == i for i, b in enumerate(parsed.blocks))
    assert parsed.states["S"].output_path is None and parsed.states["S"].input_path == "$"


# --- problems, with did-you-mean and locations ----------------------------------------------


def test_unknown_field_suggests_the_right_one() -> None:
    [error] = errors_of(machine(A={"Type": "Pass", "Nxt": "A", "End": True}))
    assert error.path == ("States", "A", "Nxt")
    assert "unknown field `Nxt`" in error.message and "Did you mean `Next`?" in error.message


def test_unknown_state_type_suggests_the_right_one() -> None:
    [error] = errors_of(machine(A={"Type": "Paralel", "End": True}))
    assert "Did you mean `Parallel`?" in error.message


def test_missing_next_or_end() -> None:
    assert "missing `Next` or `End: true`" in messages(machine(A={"Type": "Pass"}))
    assert "not both" in messages(machine(A={"Type": "Pass", "Next": "A", "End": True}))
    assert "`End` must be true" in messages(machine(A={"Type": "Pass", "End": False}))
    assert "has no `Next`" in messages(machine(A={"Type": "Succeed", "Next": "A"}))


def test_transitions_must_name_states_of_the_same_scope() -> None:
    text = messages(machine(A={"Type": "Pass", "Next": "Finsh"}, Finish={"Type": "Succeed"}))
    assert "names state 'Finsh'" in text and "Did you mean `Finish`?" in text
    text = messages(machine(
        P={"Type": "Parallel", "Next": "Done", "Branches": [
            {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Done"}}}]},
        Done={"Type": "Succeed"},
    ))
    assert "can only move between its own states" in text
    text = messages(machine(A={"Type": "Choice", "Choices": [
        {"Variable": "$.x", "IsNull": True, "Next": "Nowhere"}], "Default": "Gone"}))
    assert "'Nowhere'" in text and "'Gone'" in text


def test_start_at_must_exist() -> None:
    [error] = errors_of({"StartAt": "Begin", "States": {"Begin2": {"Type": "Succeed"}}})
    assert error.path == ("StartAt",) and "Did you mean `Begin2`?" in error.message


def test_unreachable_states_are_reported() -> None:
    [error] = errors_of(machine(A={"Type": "Succeed"}, Orphan={"Type": "Pass", "End": True}))
    assert error.path == ("States", "Orphan") and "unreachable" in error.message


def test_states_reached_only_by_catch_or_default_are_reachable() -> None:
    parse_state_machine(machine(
        T={"Type": "Task", "Resource": "fn/r", "Next": "C",
           "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}]},
        C={"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Done"}],
           "Default": "Other"},
        Handler={"Type": "Fail"}, Done={"Type": "Succeed"}, Other={"Type": "Succeed"},
    ))


def test_bad_paths_templates_choice_rules_and_intrinsics() -> None:
    text = messages(machine(A={"Type": "Pass", "InputPath": "not-a-path", "Next": "B"},
                            B={"Type": "Pass", "Parameters": {"x.$": "States.Nope($.a)"},
                               "Next": "C"},
                            C={"Type": "Choice", "Choices": [
                                {"Variable": "$.x", "NumericEqualz": 1, "Next": "D"}]},
                            D={"Type": "Pass", "ResultPath": "$$.x", "End": True}))
    lines = text.splitlines()
    assert any(line.startswith("States.A.InputPath:") for line in lines)
    assert any(line.startswith("States.B.Parameters:") and "States.Nope" in line for line in lines)
    assert any(line.startswith("States.C.Choices[0]:") for line in lines)
    assert any(line.startswith("States.D.ResultPath:") for line in lines)


def test_fail_paths_may_be_intrinsic_functions() -> None:
    parse_state_machine(machine(F={"Type": "Fail", "ErrorPath": "States.Format('{}', $.e)",
                                   "CausePath": "$$.State.Name"}))
    text = messages(machine(F={"Type": "Fail", "Error": "E", "ErrorPath": "$.e",
                               "CausePath": "States.Bogus()"}))
    assert "`Error` or `ErrorPath`, not both" in text and "States.Bogus" in text


def test_retry_and_catch_shapes() -> None:
    text = messages(machine(T={
        "Type": "Task", "Resource": "fn/r", "End": True,
        "Retry": [
            {"ErrorEquals": ["States.ALL"]},
            {"ErrorEquals": [], "MaxAttempts": -1, "BackoffRate": 0.5, "IntervalSeconds": 0,
             "JitterStrategy": "HALF", "MaxDelaySecs": 3},
        ],
        "Catch": [{"ErrorEquals": ["A", "States.ALL"]}, "nope"],
    }))
    for expected in ("must be the last one", "non-empty list of error names",
                     "`MaxAttempts` must be between 0",
                     "`BackoffRate` must be a number of at least 1.0",
                     "`IntervalSeconds` must be between 1", "FULL or NONE",
                     "Did you mean `MaxDelaySeconds`?", "must be the only error name",
                     "`Next` is required in a catcher", "each Catch entry must be a mapping"):
        assert expected in text, expected
    assert "`Retry` must be a list" in messages(machine(T={"Type": "Task", "Resource": "fn/r",
                                                           "End": True, "Retry": {}}))


def test_task_wait_and_map_field_combinations() -> None:
    text = messages(machine(
        T={"Type": "Task", "Resource": "fn/r", "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t",
           "HeartbeatSeconds": 9, "Next": "W"},
        W={"Type": "Wait", "Seconds": 1, "Timestamp": "2020-01-01T00:00:00Z", "Next": "W2"},
        W2={"Type": "Wait", "Timestamp": "2020-01-01 00:00:00", "Next": "M"},
        M={"Type": "Map", "ItemSelector": {}, "Parameters": {}, "MaxConcurrency": -2,
           "ItemReader": {}, "End": True,
           "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"},
                             "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}},
    ))
    for expected in ("`TimeoutSeconds` or `TimeoutSecondsPath`, not both",
                     "must be smaller than `TimeoutSeconds`", "exactly one of `Seconds`",
                     "not an ISO-8601 date-time", "`ItemSelector` or the older `Parameters`",
                     "`MaxConcurrency` must be between 0", "distributed Map (ItemReader)",
                     "distributed Map is not supported"):
        assert expected in text, expected


def test_task_resources_baton_can_call() -> None:
    for resource in ("orders/charge", "com.example.fns/greeter",
                     "arn:aws:lambda:eu-west-1:123456789012:function:my-fn",
                     "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:prod",
                     "arn:aws:states:::lambda:invoke", "greeter", "greeter:live"):
        parse_state_machine(machine(T={"Type": "Task", "Resource": resource, "End": True}))
    for resource in ("a/b/c", "two words", "arn:aws:states:::sqs:sendMessage",
                     "arn:aws:states:::lambda:invoke.waitForTaskToken",
                     "arn:aws:states:us-east-1:123456789012:activity:x"):
        text = messages(machine(T={"Type": "Task", "Resource": resource, "End": True}))
        assert "is not a StateFun function type" in text, resource


def test_shape_errors_at_the_top() -> None:
    assert "`StartAt` is required" in messages({"States": {"A": {"Type": "Succeed"}}})
    assert "`States` must be a non-empty mapping" in messages({"StartAt": "A", "States": {}})
    assert "`TimeoutSeconds` must be an integer" in messages(
        {"StartAt": "A", "TimeoutSeconds": "5", "States": {"A": {"Type": "Succeed"}}})
    assert "JSONPath query language" in messages(
        {"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Succeed"}}})
    parse_state_machine({"StartAt": "A", "QueryLanguage": "JSONPath",
                         "States": {"A": {"Type": "Succeed"}}})


def test_all_problems_are_collected_first_in_line_order_with_locations() -> None:
    lines = {("States",): 2, ("States", "A"): 3, ("States", "A", "Nxt"): 4,
             ("States", "B"): 6, ("States", "B", "Type"): 7}
    errors = errors_of(
        machine(A={"Type": "Pass", "Nxt": "B", "End": True}, B={"Type": "Bogus"}),
        locate=lines.get, file="module.yaml",
    )
    assert [(e.line, e.path) for e in errors] == [
        (4, ("States", "A", "Nxt")), (6, ("States", "B")), (7, ("States", "B", "Type"))]
    assert str(errors[0]).startswith("module.yaml:4: States.A.Nxt: unknown field")
    assert "2 more problem(s)" in "".join(getattr(errors[0], "__notes__", []))
    assert errors[0].render_all().count("module.yaml:") == 3


def test_locate_falls_back_to_the_nearest_located_parent() -> None:
    [error] = errors_of(machine(A={"Type": "Pass", "Result": 1, "Bogus": {"deep": 1}, "End": True}),
                        locate={("States", "A"): 12}.get)
    assert error.line == 12 and error.path == ("States", "A", "Bogus")


def test_parse_timestamp() -> None:
    assert parse_timestamp("1970-01-01T00:00:10Z") == 10.0
    assert parse_timestamp("1970-01-01T01:00:10+01:00") == 10.0
    assert parse_timestamp("2016-03-05T21:29:29.243167252Z") == pytest.approx(1457213369.243167)
    for bad in ("2016-12-05T21:29:29", "2016-12-05 21:29:29Z", "2016-13-05T21:29:29Z",
                "2016-12-05T25:29:29Z", "05-12-2016T21:29:29Z", 5, None):
        assert parse_timestamp(bad) is None, bad
