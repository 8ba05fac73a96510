"""Engine behaviours the AWS recordings do not show: at-least-once delivery, timers, concurrency,
backoff arithmetic, heartbeats, timeouts, aborts and serialisable progress."""

from __future__ import annotations

import json
from typing import Any

import pytest

from baton.workflows.definition import parse_state_machine
from baton.workflows.engine import (
    CancelTimer,
    Command,
    Engine,
    Execution,
    ExecutionFinished,
    InvokeTask,
    StartTimer,
)

T0 = 1_000_000.0


def engine(definition: dict[str, Any], **options: Any) -> Engine:
    return Engine(parse_state_machine(definition), **options)


def one_task(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "fn/work",
                                                   "End": True, **fields}}}


def of(kind: type, commands: list[Command]) -> list:
    return [c for c in commands if isinstance(c, kind)]


def finished(commands: list[Command]) -> ExecutionFinished:
    [done] = of(ExecutionFinished, commands)
    return done


def roundtrip(execution: Execution) -> Execution:
    return Execution.from_json(json.loads(json.dumps(execution.to_json())))


# --- tasks and at-least-once delivery -------------------------------------------------------


def test_task_result_flows_to_the_output() -> None:
    eng = engine(one_task(ResultPath="$.result"))
    execution, commands = eng.start({"x": 1}, name="e1", now=T0)
    [invoke] = of(InvokeTask, commands)
    assert (invoke.resource, invoke.input) == ("fn/work", {"x": 1})
    assert invoke.timeout_seconds is None and not of(StartTimer, commands)
    commands = eng.task_succeeded(execution, invoke.task_id, {"y": 2}, T0 + 1)
    assert finished(commands) == ExecutionFinished("SUCCEEDED", {"x": 1, "result": {"y": 2}})
    assert execution.status == "SUCCEEDED" and execution.end_time == T0 + 1


def test_duplicate_unknown_and_late_events_are_ignored() -> None:
    eng = engine(one_task())
    execution, commands = eng.start({}, name="e1", now=T0)
    [invoke] = of(InvokeTask, commands)
    assert eng.task_succeeded(execution, "no-such-task", 1, T0) == []
    assert eng.timer_fired(execution, "no-such-timer", T0) == []
    assert execution.status == "RUNNING"
    done = finished(eng.task_succeeded(execution, invoke.task_id, "first", T0 + 1))
    assert done.output == "first"
    history = list(execution.history)
    assert eng.task_succeeded(execution, invoke.task_id, "again", T0 + 2) == []
    assert eng.task_failed(execution, invoke.task_id, "E", "c", T0 + 2) == []
    assert execution.history == history and execution.output == "first"


def test_a_duplicate_failure_does_not_consume_a_second_retry() -> None:
    eng = engine(one_task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]))
    execution, commands = eng.start({}, name="e1", now=T0)
    [invoke] = of(InvokeTask, commands)
    first = eng.task_failed(execution, invoke.task_id, "Boom", None, T0)
    assert len(of(StartTimer, first)) == 1
    assert eng.task_failed(execution, invoke.task_id, "Boom", None, T0) == []
    assert execution.runs["root"].retry_count == 1


def test_task_ids_are_unique_per_attempt_and_per_execution() -> None:
    eng = engine(one_task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]))
    execution, commands = eng.start({}, name="e1", now=T0)
    ids = []
    for _attempt in range(3):
        [invoke] = of(InvokeTask, commands)
        ids.append(invoke.task_id)
        [timer] = of(StartTimer, eng.task_failed(execution, invoke.task_id, "E", None, T0))
        commands = eng.timer_fired(execution, timer.timer_id, timer.fire_at)
    assert len(set(ids)) == 3
    _, other = eng.start({}, name="e1", now=T0 + 5)  # same name, another run
    assert of(InvokeTask, other)[0].task_id not in ids


def test_task_timeout_fails_with_states_timeout_and_late_results_are_ignored() -> None:
    eng = engine(one_task(TimeoutSeconds=5))
    execution, commands = eng.start({}, name="e1", now=T0)
    [invoke] = of(InvokeTask, commands)
    [timer] = of(StartTimer, commands)
    assert invoke.timeout_seconds == 5 and timer.fire_at == T0 + 5
    done = finished(eng.timer_fired(execution, timer.timer_id, T0 + 5))
    assert (done.status, done.error, done.cause) == ("FAILED", "States.Timeout", None)
    assert eng.task_succeeded(execution, invoke.task_id, "late", T0 + 60) == []
    assert eng.timer_fired(execution, timer.timer_id, T0 + 5) == []


def test_retry_after_timeout_accepts_only_the_new_attempt() -> None:
    eng = engine(one_task(TimeoutSeconds=5, Retry=[{"ErrorEquals": ["States.Timeout"]}]))
    execution, commands = eng.start({}, name="e1", now=T0)
    [old] = of(InvokeTask, commands)
    [timeout] = of(StartTimer, commands)
    [backoff] = of(StartTimer, eng.timer_fired(execution, timeout.timer_id, T0 + 5))
    assert backoff.fire_at == T0 + 6
    commands = eng.timer_fired(execution, backoff.timer_id, T0 + 6)
    [new] = of(InvokeTask, commands)
    assert eng.task_succeeded(execution, old.task_id, "late", T0 + 7) == []
    commands = eng.task_succeeded(execution, new.task_id, "fresh", T0 + 8)
    assert finished(commands).output == "fresh"
    assert of(CancelTimer, commands)  # the new attempt's timeout timer


def test_task_finishing_cancels_its_timeout_timer() -> None:
    eng = engine(one_task(TimeoutSeconds=30, HeartbeatSeconds=10))
    execution, commands = eng.start({}, name="e1", now=T0)
    timers = {t.timer_id for t in of(StartTimer, commands)}
    assert len(timers) == 2
    commands = eng.task_succeeded(execution, of(InvokeTask, commands)[0].task_id, 1, T0 + 1)
    assert {c.timer_id for c in of(CancelTimer, commands)} == timers
    assert execution.timers == {}


def test_heartbeat_restarts_its_clock_and_times_out_as_states_timeout() -> None:
    eng = engine({"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "fn/work", "TimeoutSeconds": 100,
                 "HeartbeatSeconds": 10, "Next": "Done",
                 "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}]},
        "Done": {"Type": "Succeed"}, "Caught": {"Type": "Pass", "End": True},
    }})
    execution, commands = eng.start({}, name="e1", now=T0)
    [invoke] = of(InvokeTask, commands)
    heartbeat = next(t for t in of(StartTimer, commands) if t.fire_at == T0 + 10)
    commands = eng.task_heartbeat(execution, invoke.task_id, T0 + 8)
    assert of(CancelTimer, commands) == [CancelTimer(heartbeat.timer_id)]
    [renewed] = of(StartTimer, commands)
    assert renewed.fire_at == T0 + 18
    assert eng.timer_fired(execution, heartbeat.timer_id, T0 + 10) == []  # the old clock
    done = finished(eng.timer_fired(execution, renewed.timer_id, T0 + 18))
    assert done.output == {"Error": "States.HeartbeatTimeout", "Cause": ""}
    assert execution.states_entered() == ["Work", "Caught"]


# --- retry arithmetic -----------------------------------------------------------------------


def backoff_delays(retrier: dict[str, Any], failures: int, seed: str = "s") -> list[float]:
    eng = engine(one_task(Retry=[{"ErrorEquals": ["States.ALL"], **retrier}]))
    execution, commands = eng.start({}, name="e1", now=T0, seed=seed)
    delays, now = [], T0
    for _ in range(failures):
        [invoke] = of(InvokeTask, commands)
        commands = eng.task_failed(execution, invoke.task_id, "E", "c", now)
        timers = of(StartTimer, commands)
        if not timers:
            assert finished(commands).error == "E"
            break
        delays.append(timers[0].fire_at - now)
        now = timers[0].fire_at
        commands = eng.timer_fired(execution, timers[0].timer_id, now)
    return delays


def test_backoff_grows_by_the_rate_and_stops_at_max_delay() -> None:
    assert backoff_delays({}, 5) == [1.0, 2.0, 4.0]  # defaults: 1 s, x2.0, 3 attempts
    assert backoff_delays({"IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 4,
                           "MaxDelaySeconds": 10}, 6) == [2.0, 6.0, 10.0, 10.0]
    assert backoff_delays({"MaxAttempts": 0}, 2) == []


def test_full_jitter_is_random_within_the_delay_and_replays_identically() -> None:
    retrier = {"IntervalSeconds": 3, "BackoffRate": 2, "MaxAttempts": 4, "MaxDelaySeconds": 5,
               "JitterStrategy": "FULL"}
    first = backoff_delays(retrier, 5, seed="a")
    assert len(first) == 4
    assert all(0 <= d <= cap for d, cap in zip(first, [3, 5, 5, 5], strict=True))
    assert backoff_delays(retrier, 5, seed="a") == first
    assert backoff_delays(retrier, 5, seed="b") != first


def test_each_retrier_counts_its_own_attempts_and_the_first_match_decides() -> None:
    eng = engine(one_task(Retry=[
        {"ErrorEquals": ["A"], "MaxAttempts": 1},
        {"ErrorEquals": ["B"], "MaxAttempts": 1},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5},
    ]))
    execution, commands = eng.start({}, name="e1", now=T0)
    now = T0
    for error in ("A", "B"):
        [invoke] = of(InvokeTask, commands)
        [timer] = of(StartTimer, eng.task_failed(execution, invoke.task_id, error, None, now))
        now = timer.fire_at
        commands = eng.timer_fired(execution, timer.timer_id, now)
    [invoke] = of(InvokeTask, commands)
    # A's retrier is exhausted; States.ALL further down is not consulted.
    assert finished(eng.task_failed(execution, invoke.task_id, "A", "again", now)).error == "A"


def test_retry_count_is_in_the_context_object() -> None:
    eng = engine(one_task(Parameters={"retries.$": "$$.State.RetryCount"},
                          Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]))
    execution, commands = eng.start({}, name="e1", now=T0)
    seen = []
    while True:
        [invoke] = of(InvokeTask, commands)
        seen.append(invoke.input["retries"])
        failed = eng.task_failed(execution, invoke.task_id, "E", None, T0)
        timers = of(StartTimer, failed)
        if not timers:
            assert finished(failed).status == "FAILED"
            break
        commands = eng.timer_fired(execution, timers[0].timer_id, timers[0].fire_at)
    assert seen == [0, 1, 2]


# --- Map and Parallel -----------------------------------------------------------------------


def map_of_tasks(**map_fields: Any) -> dict[str, Any]:
    return {"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": True, **map_fields,
        "ItemProcessor": {"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": "fn/work", "End": True}}},
    }}}


def test_map_max_concurrency_limits_running_iterations_and_keeps_item_order() -> None:
    eng = engine(map_of_tasks(MaxConcurrency=2))
    execution, commands = eng.start([10, 11, 12, 13, 14], name="e1", now=T0)
    outstanding = {c.task_id: c.input for c in of(InvokeTask, commands)}
    assert sorted(outstanding.values()) == [10, 11]
    finished_with = None
    while outstanding:
        assert len(outstanding) <= 2
        task_id = max(outstanding, key=outstanding.get)  # finish the newest first
        item = outstanding.pop(task_id)
        commands = eng.task_succeeded(execution, task_id, item * 100, T0 + 1)
        outstanding.update({c.task_id: c.input for c in of(InvokeTask, commands)})
        if of(ExecutionFinished, commands):
            finished_with = finished(commands)
    assert finished_with is not None
    assert finished_with.output == [1000, 1100, 1200, 1300, 1400]


def test_map_without_limit_starts_every_iteration_and_keeps_item_order() -> None:
    eng = engine(map_of_tasks())
    execution, commands = eng.start(["a", "b", "c"], name="e1", now=T0)
    invokes = of(InvokeTask, commands)
    assert [c.input for c in invokes] == ["a", "b", "c"]
    for invoke in reversed(invokes):
        commands = eng.task_succeeded(execution, invoke.task_id, invoke.input.upper(), T0 + 1)
    assert finished(commands).output == ["A", "B", "C"]


def test_map_over_no_items_is_an_empty_list() -> None:
    eng = engine(map_of_tasks())
    _, commands = eng.start([], name="e1", now=T0)
    assert finished(commands).output == []


def test_a_failing_branch_cancels_the_others_and_their_timers() -> None:
    eng = engine({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": "fn/slow",
                                                "End": True}}},
        {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 100, "End": True}}},
        {"StartAt": "Inner", "States": {"Inner": {
            "Type": "Map", "End": True,
            "ItemProcessor": {"StartAt": "Z", "States": {"Z": {"Type": "Wait", "Seconds": 50,
                                                                "End": True}}}}}},
        {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "fn/work",
                                                "End": True}}},
    ]}}})
    execution, commands = eng.start([1, 2], name="e1", now=T0)
    slow, work = of(InvokeTask, commands)
    timers = {t.timer_id for t in of(StartTimer, commands)}
    assert len(timers) == 3  # Nap, and one Z per item
    commands = eng.task_failed(execution, work.task_id, "Broken", "why", T0 + 1)
    assert finished(commands) == ExecutionFinished("FAILED", None, "Broken", "why")
    assert {c.timer_id for c in of(CancelTimer, commands)} == timers
    assert eng.task_succeeded(execution, slow.task_id, "late", T0 + 2) == []


def test_a_caught_branch_failure_leaves_no_timer_or_task_behind() -> None:
    eng = engine({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Done",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done", "ResultPath": "$.error"}],
              "Branches": [
                  {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 100,
                                                        "End": True}}},
                  {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "X"}}},
              ]},
        "Done": {"Type": "Pass", "End": True},
    }})
    execution, commands = eng.start({"in": 1}, name="e1", now=T0)
    assert finished(commands).output == {"in": 1, "error": {"Error": "X", "Cause": ""}}
    [timer] = of(StartTimer, commands)
    assert of(CancelTimer, commands) == [CancelTimer(timer.timer_id)]
    assert execution.timers == {} and execution.tasks == {}


# --- execution-level events -----------------------------------------------------------------


def test_execution_timeout_times_out_and_ignores_what_comes_later() -> None:
    eng = engine(one_task() | {"TimeoutSeconds": 30})
    execution, commands = eng.start({}, name="e1", now=T0)
    [invoke] = of(InvokeTask, commands)
    [timer] = of(StartTimer, commands)
    assert timer.fire_at == T0 + 30
    done = finished(eng.timer_fired(execution, timer.timer_id, T0 + 30))
    assert (done.status, done.error) == ("TIMED_OUT", None)
    assert execution.history[-1]["type"] == "ExecutionTimedOut"
    assert eng.task_succeeded(execution, invoke.task_id, 1, T0 + 31) == []


def test_execution_timeout_timer_is_cancelled_when_the_execution_ends() -> None:
    eng = engine(one_task() | {"TimeoutSeconds": 30})
    execution, commands = eng.start({}, name="e1", now=T0)
    [timer] = of(StartTimer, commands)
    commands = eng.task_succeeded(execution, of(InvokeTask, commands)[0].task_id, 1, T0 + 1)
    assert CancelTimer(timer.timer_id) in commands
    assert commands[-1] == ExecutionFinished("SUCCEEDED", 1)


def test_abort_stops_everything() -> None:
    eng = engine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}})
    execution, commands = eng.start({}, name="e1", now=T0)
    [timer] = of(StartTimer, commands)
    commands = eng.abort(execution, T0 + 1, error="Stop", cause="operator")
    assert commands == [CancelTimer(timer.timer_id),
                        ExecutionFinished("ABORTED", None, "Stop", "operator")]
    assert eng.timer_fired(execution, timer.timer_id, T0 + 10) == []
    assert eng.abort(execution, T0 + 2) == []


def test_an_endless_synchronous_loop_fails_at_the_history_limit() -> None:
    eng = engine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True,
                                             "Next": "End"}], "Default": "A"},
        "End": {"Type": "Succeed"},
    }}, history_limit=200)
    _execution, commands = eng.start({}, name="e1", now=T0)
    done = finished(commands)
    assert (done.status, done.error) == ("FAILED", "States.Runtime")
    assert "200" in done.cause


def test_wait_until_a_timestamp_and_seconds_path() -> None:
    eng = engine({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Timestamp": "1970-01-12T13:46:50Z", "Next": "W2"},  # T0 + 10
        "W2": {"Type": "Wait", "SecondsPath": "$.s", "End": True},
    }})
    execution, commands = eng.start({"s": 7}, name="e1", now=T0)
    [timer] = of(StartTimer, commands)
    assert timer.fire_at == T0 + 10
    [timer] = of(StartTimer, eng.timer_fired(execution, timer.timer_id, T0 + 10))
    assert timer.fire_at == T0 + 17
    assert finished(eng.timer_fired(execution, timer.timer_id, T0 + 17)).output == {"s": 7}


def test_context_object() -> None:
    eng = engine({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True, "Parameters": {
        "execution.$": "$$.Execution", "state.$": "$$.State", "machine.$": "$$.StateMachine"}}}},
        name="orders")
    _, commands = eng.start({"a": 1}, name="run-7", now=T0)
    output = finished(commands).output
    assert output["execution"]["Name"] == "run-7"
    assert output["execution"]["Input"] == {"a": 1}
    assert output["execution"]["StartTime"] == "1970-01-12T13:46:40.000Z"
    assert output["execution"]["Id"].endswith(":orders:run-7")
    assert output["state"] == {"EnteredTime": "1970-01-12T13:46:40.000Z", "Name": "S",
                               "RetryCount": 0}
    assert output["machine"]["Name"] == "orders"


# --- serialisable progress ------------------------------------------------------------------


def test_progress_survives_a_json_round_trip_mid_flight() -> None:
    eng = engine(map_of_tasks(MaxConcurrency=2, Retry=[{"ErrorEquals": ["States.ALL"]}]))
    execution, commands = eng.start([1, 2, 3], name="e1", now=T0)
    execution = roundtrip(execution)
    first, second = of(InvokeTask, commands)
    commands = eng.task_failed(execution, first.task_id, "E", None, T0)  # the Map retries
    execution = roundtrip(execution)
    [timer] = of(StartTimer, commands)
    assert eng.task_succeeded(execution, second.task_id, 2, T0) == []  # cancelled iteration
    commands = eng.timer_fired(execution, timer.timer_id, timer.fire_at)
    execution = roundtrip(execution)
    pending = of(InvokeTask, commands)
    while True:
        invoke = pending.pop(0)
        commands = eng.task_succeeded(execution, invoke.task_id, invoke.input * 2, T0 + 2)
        execution = roundtrip(execution)
        pending += of(InvokeTask, commands)
        if of(ExecutionFinished, commands):
            break
    assert finished(commands).output == [2, 4, 6]
    assert execution.to_json() == roundtrip(execution).to_json()


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED"])
def test_to_json_reports_status_output_error_and_cause(status: str) -> None:
    state = {"Type": "Succeed"} if status == "SUCCEEDED" else {"Type": "Fail", "Error": "E",
                                                               "Cause": "C"}
    eng = engine({"StartAt": "S", "States": {"S": state}})
    execution, _ = eng.start({"k": "v"}, name="e1", now=T0)
    data = execution.to_json()
    assert data["status"] == status
    assert (data["output"], data["error"], data["cause"]) == (
        ({"k": "v"}, None, None) if status == "SUCCEEDED" else (None, "E", "C"))
    assert data["runs"] == {} and data["timers"] == {} and data["tasks"] == {}
