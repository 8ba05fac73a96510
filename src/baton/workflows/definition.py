"""A States Language state machine, parsed and validated once at load time.

`parse_state_machine(data)` turns the definition (a JSON-like dict, e.g. loaded from YAML) into
typed, immutable objects and checks everything Step Functions checks when a state machine is
created: field names (with a did-you-mean), field types and ranges, transitions (`Next`,
`Default`, catchers) that point at states of the same scope, states nobody reaches, paths,
templates, choice rules and intrinsic functions (through `baton.workflows.asl`), retriers and
catchers. Every problem is a `DefinitionError` with the file, line and JSON path of the field;
all of them are collected and the first is raised with the others in `errors`.

The engine (`baton.workflows.engine`) only ever runs a parsed `StateMachine`, so it can trust
the shape of every state.

This is one module on purpose: the typed states and their parser are one contract (the parser
guarantees exactly the shape the dataclasses promise, and the engine imports both from here), and
the parser is one tree walk whose field readers, state readers and transition checks all report
into the same list of located problems. What could stand alone already does: the problem type
and the did-you-mean hint are in `baton.diagnostics`, and path, template, choice-rule and
intrinsic checks are in `baton.workflows.asl`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from baton.diagnostics import DefinitionError, JsonPath, did_you_mean
from baton.workflows import resources
from baton.workflows.asl import choice as asl_choice
from baton.workflows.asl import intrinsics as asl_intrinsics
from baton.workflows.asl import paths as asl_paths
from baton.workflows.asl import templates as asl_templates

__all__ = [
    "Catcher",
    "ChoiceState",
    "FailState",
    "MapState",
    "ParallelState",
    "PassState",
    "Retrier",
    "State",
    "StateBlock",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "WaitState",
    "parse_state_machine",
    "parse_timestamp",
]

Locate = Callable[[JsonPath], "int | None"]

# Limits from the Step Functions documentation.
MAX_STATE_NAME = 80
MAX_TIMEOUT_SECONDS = 99_999_999
MAX_INTERVAL_SECONDS = 99_999_999
MAX_ATTEMPTS = 99_999_999
MAX_DELAY_SECONDS = 31_622_400


# =============================================================================================
#  The typed definition
# =============================================================================================


@dataclass(frozen=True, slots=True)
class Retrier:
    """One entry of a state's `Retry` list."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter_strategy: str = "NONE"  # or "FULL"
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Catcher:
    """One entry of a state's `Catch` list. `result_path` None means `"ResultPath": null`."""

    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields every state has. A path field set to None stands for an explicit JSON null."""

    name: str
    type: str
    location: JsonPath = ()  # where the state is in the definition, for messages
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"

    @property
    def is_terminal(self) -> bool:
        """True for states that end their branch (End, Succeed, Fail)."""
        return self.end or self.type in ("Succeed", "Fail")


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(State):
    parameters: Any = None  # None: no Parameters field
    has_result: bool = False
    result: Any = None
    result_path: str | None = "$"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(State):
    resource: str = ""
    parameters: Any = None
    result_selector: Any = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    timeout_seconds: int | None = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: int | None = None
    heartbeat_seconds_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(State):
    choices: tuple[Mapping[str, Any], ...] = ()  # the rules as written; each has "Next"
    default: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(State):
    seconds: int | None = None
    seconds_path: str | None = None
    timestamp: str | None = None
    timestamp_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(State):
    error: str | None = None
    error_path: str | None = None  # a path or an intrinsic function
    cause: str | None = None
    cause_path: str | None = None


@dataclass(frozen=True, slots=True)
class StateBlock:
    """A set of states with its StartAt: the machine itself, a Parallel branch, a Map processor.

    `index` is the block's position in `StateMachine.blocks` (pre-order), which the engine
    stores in an execution's progress to name the block a running branch belongs to.
    """

    start_at: str
    states: Mapping[str, State]
    index: int = 0
    location: JsonPath = ()
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(State):
    branches: tuple[StateBlock, ...] = ()
    parameters: Any = None
    result_selector: Any = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(State):
    processor: StateBlock = None  # type: ignore[assignment]  # always set by the parser
    items_path: str | None = "$"
    item_selector: Any = None  # ItemSelector, or the legacy Parameters
    result_selector: Any = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    max_concurrency: int = 0  # 0: no limit
    max_concurrency_path: str | None = None


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A parsed, validated state machine."""

    start_at: str
    states: Mapping[str, State]
    blocks: tuple[StateBlock, ...]  # blocks[0] is the machine's own top level
    timeout_seconds: int | None = None
    comment: str | None = None
    version: str | None = None
    definition: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def root(self) -> StateBlock:
        return self.blocks[0]


# =============================================================================================
#  Timestamps (shared with the engine's Wait state)
# =============================================================================================

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"([Zz]|[+-]\d{2}:\d{2}(?::\d{2})?)"
)


def parse_timestamp(text: Any) -> float | None:
    """Seconds since the epoch for an ISO-8601 extended offset date-time, else None.

    Step Functions takes `2016-03-14T01:59:00Z`, fractions up to nanoseconds and `+hh:mm`
    offsets; a missing offset, a space instead of `T` or an impossible date is invalid.
    """
    if not isinstance(text, str):
        return None
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if offset in ("Z", "z"):
            tz = UTC
        else:
            sign = -1 if offset[0] == "-" else 1
            parts = [int(p) for p in offset[1:].split(":")]
            delta = timedelta(hours=parts[0], minutes=parts[1],
                              seconds=parts[2] if len(parts) > 2 else 0)
            if delta >= timedelta(hours=18):
                return None
            tz = timezone(sign * delta)
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second or 0), tzinfo=tz)
    except ValueError:
        return None
    return moment.timestamp() + (int(fraction.ljust(9, "0")) / 1e9 if fraction else 0.0)


# =============================================================================================
#  Parsing
# =============================================================================================

_COMMON = ("Type", "Comment")
_FLOW = ("Next", "End")
_IO = ("InputPath", "OutputPath")
_FIELDS: dict[str, tuple[str, ...]] = {
    "Pass": (*_COMMON, *_FLOW, *_IO, "Parameters", "Result", "ResultPath"),
    "Task": (*_COMMON, *_FLOW, *_IO, "Resource", "Parameters", "ResultSelector", "ResultPath",
             "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
             "HeartbeatSecondsPath"),
    "Choice": (*_COMMON, *_IO, "Choices", "Default"),
    "Wait": (*_COMMON, *_FLOW, *_IO, "Seconds", "SecondsPath", "Timestamp", "TimestampPath"),
    "Succeed": (*_COMMON, *_IO),
    "Fail": (*_COMMON, "Error", "ErrorPath", "Cause", "CausePath"),
    "Parallel": (*_COMMON, *_FLOW, *_IO, "Branches", "Parameters", "ResultSelector",
                 "ResultPath", "Retry", "Catch"),
    "Map": (*_COMMON, *_FLOW, *_IO, "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector",
            "Parameters", "ResultSelector", "ResultPath", "MaxConcurrency",
            "MaxConcurrencyPath", "Retry", "Catch"),
}
_MACHINE_FIELDS = ("StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage")
_BRANCH_FIELDS = ("StartAt", "States", "Comment")
_PROCESSOR_FIELDS = ("StartAt", "States", "Comment", "ProcessorConfig")
_RETRIER_FIELDS = ("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                   "MaxDelaySeconds", "JitterStrategy", "Comment")
_CATCHER_FIELDS = ("ErrorEquals", "Next", "ResultPath", "Comment")

# Real ASL fields baton does not run, with the reason.
_UNSUPPORTED = {
    "Credentials": "cross-account Task credentials are not supported",
    "Arguments": "JSONata states (Arguments) are not supported; use Parameters",
    "Output": "JSONata states (Output) are not supported; use OutputPath/ResultSelector",
    "Assign": "workflow variables (Assign) are not supported",
    "QueryLanguage": "only the JSONPath query language is supported",
    "Items": "JSONata Items are not supported; use ItemsPath",
    "ItemReader": "distributed Map (ItemReader) is not supported; only inline Map runs",
    "ResultWriter": "distributed Map (ResultWriter) is not supported; only inline Map runs",
    "ItemBatcher": "distributed Map (ItemBatcher) is not supported; only inline Map runs",
    "ToleratedFailureCount": "ToleratedFailureCount is a distributed-Map field; not supported",
    "ToleratedFailurePercentage": "ToleratedFailurePercentage is a distributed-Map field; "
                                  "not supported",
    "ToleratedFailureCountPath": "ToleratedFailureCountPath is a distributed-Map field; "
                                 "not supported",
    "ToleratedFailurePercentagePath": "ToleratedFailurePercentagePath is a distributed-Map "
                                      "field; not supported",
    "Label": "Label is a distributed-Map field; not supported",
}


class _Parser:
    def __init__(self, file: str, locate: Locate | None) -> None:
        self.file = file
        self.locate = locate
        self.errors: list[DefinitionError] = []
        self.blocks: list[StateBlock | None] = []

    # --- reporting ---------------------------------------------------------------------------

    def error(self, path: JsonPath, message: str) -> None:
        self.errors.append(DefinitionError(message, self.file, self._line(path), path))

    def _line(self, path: JsonPath) -> int | None:
        if self.locate is None:
            return None
        probe = tuple(path)
        while True:
            try:
                line = self.locate(probe)
            except Exception:  # a locator that cannot answer is no reason to fail the load
                line = None
            if line is not None or not probe:
                return line
            probe = probe[:-1]

    def asl_check(self, path: JsonPath, check: Callable[..., Any], *args: Any,
                  **kwargs: Any) -> bool:
        """Run one of the asl layer's check functions; report what it finds. True when clean."""
        try:
            found = check(*args, **kwargs)
        except Exception as problem:  # the asl layer reports by raising
            self.error(path, _message_of(problem))
            return False
        if not found:
            return True
        for each in [found] if isinstance(found, str | Exception) else list(found):
            self.error(path, _message_of(each))
        return False

    # --- field readers -----------------------------------------------------------------------

    def keys(self, data: Mapping[str, Any], path: JsonPath, allowed: Sequence[str],
             what: str) -> None:
        for key in data:
            if key in allowed or (key == "QueryLanguage" and data[key] == "JSONPath"):
                continue
            key_path = (*path, key)
            if not isinstance(key, str):
                self.error(key_path, f"field names must be strings, not {key!r}")
            elif key in _UNSUPPORTED:
                self.error(key_path, f"`{key}`: {_UNSUPPORTED[key]}")
            else:
                self.error(key_path,
                           f"unknown field `{key}` in {what}.{did_you_mean(key, allowed)}")

    def string(self, data: Mapping[str, Any], key: str, path: JsonPath, *,
               required: bool = False, what: str = "") -> str | None:
        if key not in data:
            if required:
                self.error(path, f"`{key}` is required{what}")
            return None
        value = data[key]
        if not isinstance(value, str) or (required and not value):
            self.error((*path, key), f"`{key}` must be a non-empty string, not {_show(value)}")
            return None
        return value

    def integer(self, data: Mapping[str, Any], key: str, path: JsonPath, *, minimum: int,
                maximum: int, default: int | None = None) -> int | None:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error((*path, key), f"`{key}` must be an integer, not {_show(value)}")
            return default
        if not minimum <= value <= maximum:
            self.error((*path, key),
                       f"`{key}` must be between {minimum} and {maximum}, not {value}")
            return default
        return value

    def path_field(self, data: Mapping[str, Any], key: str, path: JsonPath, *,
                   nullable: bool, default: str | None = None) -> str | None:
        """A path field (InputPath, ItemsPath, SecondsPath ...). None: explicit null."""
        if key not in data:
            return default
        value = data[key]
        if value is None:
            if not nullable:
                self.error((*path, key), f"`{key}` must be a path like `$.field`, not null")
                return default
            return None
        if not isinstance(value, str):
            self.error((*path, key), f"`{key}` must be a path like `$.field`, not {_show(value)}")
            return default
        if self.asl_check((*path, key), asl_paths.check_path, value, key):
            return value
        return default

    def template(self, data: Mapping[str, Any], key: str, path: JsonPath) -> Any:
        """Parameters, ResultSelector, ItemSelector: a JSON value whose `.$` keys are paths."""
        if key not in data:
            return None
        value = data[key]
        if value is None:
            self.error((*path, key), f"`{key}` must be a JSON object, not null; remove it instead")
            return None
        self.asl_check((*path, key), asl_templates.check_template, value, key)
        return value

    # --- the machine and its blocks ----------------------------------------------------------

    def machine(self, data: Any) -> StateMachine | None:
        if not isinstance(data, Mapping):
            self.error((), "a state machine must be a mapping with StartAt and States, "
                           f"not {_show(data)}")
            return None
        self.keys(data, (), _MACHINE_FIELDS, "the state machine")
        if data.get("QueryLanguage", "JSONPath") != "JSONPath":
            self.error(("QueryLanguage",), f"`QueryLanguage`: {_UNSUPPORTED['QueryLanguage']}")
        timeout = self.integer(data, "TimeoutSeconds", (), minimum=1, maximum=MAX_TIMEOUT_SECONDS)
        version = data.get("Version")
        if "Version" in data and version != "1.0":
            self.error(("Version",), f"`Version` must be \"1.0\", not {_show(version)}")
        comment = self.comment(data, ())
        block = self.block(data, (), "the state machine")
        if block is None:
            return None
        return StateMachine(
            start_at=block.start_at, states=block.states,
            blocks=tuple(b for b in self.blocks if b is not None),
            timeout_seconds=timeout, comment=comment,
            version=version if isinstance(version, str) else None, definition=data,
        )

    def comment(self, data: Mapping[str, Any], path: JsonPath) -> str | None:
        value = data.get("Comment")
        if "Comment" in data and not isinstance(value, str):
            self.error((*path, "Comment"), f"`Comment` must be a string, not {_show(value)}")
            return None
        return value

    def block(self, data: Any, path: JsonPath, what: str,
              fields: Sequence[str] | None = None) -> StateBlock | None:
        """StartAt + States, for the machine, a branch or a Map processor."""
        if not isinstance(data, Mapping):
            self.error(path, f"{what} must be a mapping with StartAt and States, not {_show(data)}")
            return None
        if fields is not None:
            self.keys(data, path, fields, what)
        index = len(self.blocks)
        self.blocks.append(None)  # reserve the pre-order slot before nested blocks
        start_at = self.string(data, "StartAt", path, required=True, what=f" in {what}")
        raw_states = data.get("States")
        states: dict[str, State] = {}
        if not isinstance(raw_states, Mapping) or not raw_states:
            if "States" not in data:
                self.error(path, f"`States` is required in {what}")
            else:
                self.error((*path, "States"),
                           f"`States` must be a non-empty mapping of state names to states, "
                           f"not {_show(raw_states)}")
        else:
            for name, raw in raw_states.items():
                state = self.state(name, raw, (*path, "States", name))
                if state is not None:
                    states[name] = state
        if start_at is not None and isinstance(raw_states, Mapping) and raw_states \
                and start_at not in raw_states:
            self.error((*path, "StartAt"),
                       f"`StartAt` names state '{start_at}', which is not in {what}'s "
                       f"States.{did_you_mean(start_at, list(raw_states))}")
        if isinstance(raw_states, Mapping) and raw_states:
            self.transitions(raw_states, states, path, start_at, what)
        block = StateBlock(start_at or "", states, index, path, self.comment(data, path))
        self.blocks[index] = block
        return block

    def transitions(self, raw_states: Mapping[str, Any], states: Mapping[str, State],
                    path: JsonPath, start_at: str | None, what: str) -> None:
        """Every Next/Default/catcher target exists in this block; every state is reachable."""
        names = list(raw_states)
        edges: dict[str, list[str]] = {}
        for name, state in states.items():
            where = (*path, "States", name)
            targets: list[tuple[JsonPath, str]] = []
            if state.next is not None:
                targets.append(((*where, "Next"), state.next))
            if isinstance(state, ChoiceState):
                for i, rule in enumerate(state.choices):
                    if isinstance(rule.get("Next"), str):
                        targets.append(((*where, "Choices", i, "Next"), rule["Next"]))
                if state.default is not None:
                    targets.append(((*where, "Default"), state.default))
            for i, catcher in enumerate(getattr(state, "catch", ())):
                targets.append(((*where, "Catch", i, "Next"), catcher.next))
            edges[name] = [target for _, target in targets]
            for target_path, target in targets:
                if target not in raw_states:
                    scope = "" if not path else (
                        " (a branch or Map processor can only move between its own states)"
                    )
                    self.error(target_path,
                               f"`{target_path[-1]}` names state '{target}', which is not in "
                               f"{what}'s States{scope}.{did_you_mean(target, names)}")
        if start_at is None or start_at not in raw_states:
            return
        reached = {start_at}
        todo = [start_at]
        while todo:
            for target in edges.get(todo.pop(), ()):
                if target in raw_states and target not in reached:
                    reached.add(target)
                    todo.append(target)
        for name in names:
            if name not in reached:
                self.error((*path, "States", name),
                           f"state '{name}' is unreachable: no StartAt, Next, Default or Catch "
                           f"leads to it")

    # --- states ------------------------------------------------------------------------------

    def state(self, name: Any, data: Any, path: JsonPath) -> State | None:
        if not isinstance(name, str) or not name:
            self.error(path, f"state names must be non-empty strings, not {_show(name)}")
            return None
        if len(name) > MAX_STATE_NAME:
            self.error(path, f"state name '{name[:20]}...' is longer than {MAX_STATE_NAME} "
                             f"characters")
        if not isinstance(data, Mapping):
            self.error(path, f"state '{name}' must be a mapping with a Type, not {_show(data)}")
            return None
        kind = data.get("Type")
        if kind not in _FIELDS:
            if "Type" not in data:
                self.error(path, f"state '{name}' has no `Type`; one of {', '.join(_FIELDS)}")
            else:
                self.error((*path, "Type"),
                           f"unknown state type {_show(kind)}; one of {', '.join(_FIELDS)}."
                           f"{did_you_mean(str(kind), list(_FIELDS))}")
            return None
        self.keys(data, path, _FIELDS[kind], f"a {kind} state")
        common: dict[str, Any] = {"name": name, "type": kind, "location": path,
                                  "comment": self.comment(data, path)}
        if kind != "Fail":
            for key, name_ in (("InputPath", "input_path"), ("OutputPath", "output_path")):
                common[name_] = self.path_field(data, key, path, nullable=True, default="$")
        if kind in ("Choice", "Succeed", "Fail"):
            for key in _FLOW:
                if key in data:
                    why = ("transitions go in its Choices and Default" if kind == "Choice"
                           else "it always ends its branch")
                    self.error((*path, key), f"a {kind} state has no `{key}`; {why}")
        else:
            common.update(self.flow(data, path))
        return getattr(self, f"state_{kind.lower()}")(data, path, common)

    def flow(self, data: Mapping[str, Any], path: JsonPath) -> dict[str, Any]:
        has_next, has_end = "Next" in data, "End" in data
        nxt = self.string(data, "Next", path) if has_next else None
        end = data.get("End")
        if has_end and end is not True:
            self.error((*path, "End"), f"`End` must be true, not {_show(end)}; use `Next` to go on")
        if has_next and has_end:
            self.error(path, "a state has either `Next` or `End: true`, not both")
        if not has_next and not has_end:
            self.error(path, "missing `Next` or `End: true`: say where this state goes")
        return {"next": nxt, "end": end is True and not has_next}

    def result_path(self, data: Mapping[str, Any], path: JsonPath) -> str | None:
        return self.path_field(data, "ResultPath", path, nullable=True, default="$")

    def state_pass(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        return PassState(
            **common, parameters=self.template(data, "Parameters", path),
            has_result="Result" in data, result=data.get("Result"),
            result_path=self.result_path(data, path),
        )

    def state_task(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        resource = self.string(data, "Resource", path, required=True, what=" in a Task state")
        if resource is not None and not resources.is_supported(resource):
            self.error((*path, "Resource"),
                       f"`Resource` {resource!r} is not a StateFun function type "
                       f"`<namespace>/<name>` nor a Lambda function "
                       f"(`arn:aws:lambda:<region>:<account>:function:<name>`, a function name, "
                       f"or `arn:aws:states:::lambda:invoke`); other service integrations and "
                       f"activities are not supported")
        timeout = self.integer(data, "TimeoutSeconds", path, minimum=1, maximum=MAX_TIMEOUT_SECONDS)
        timeout_path = self.path_field(data, "TimeoutSecondsPath", path, nullable=False)
        heartbeat = self.integer(data, "HeartbeatSeconds", path, minimum=1,
                                 maximum=MAX_TIMEOUT_SECONDS)
        heartbeat_path = self.path_field(data, "HeartbeatSecondsPath", path, nullable=False)
        if "TimeoutSeconds" in data and "TimeoutSecondsPath" in data:
            self.error(path, "use `TimeoutSeconds` or `TimeoutSecondsPath`, not both")
        if "HeartbeatSeconds" in data and "HeartbeatSecondsPath" in data:
            self.error(path, "use `HeartbeatSeconds` or `HeartbeatSecondsPath`, not both")
        if timeout is not None and heartbeat is not None and heartbeat >= timeout:
            self.error((*path, "HeartbeatSeconds"),
                       f"`HeartbeatSeconds` ({heartbeat}) must be smaller than `TimeoutSeconds` "
                       f"({timeout})")
        return TaskState(
            **common, resource=resource or "",
            parameters=self.template(data, "Parameters", path),
            result_selector=self.template(data, "ResultSelector", path),
            result_path=self.result_path(data, path),
            retry=self.retriers(data, path), catch=self.catchers(data, path),
            timeout_seconds=timeout, timeout_seconds_path=timeout_path,
            heartbeat_seconds=heartbeat, heartbeat_seconds_path=heartbeat_path,
        )

    def state_choice(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        raw = data.get("Choices")
        rules: list[Mapping[str, Any]] = []
        if not isinstance(raw, list) or not raw:
            if "Choices" not in data:
                self.error(path, "a Choice state needs `Choices`: a non-empty list of rules")
            else:
                self.error((*path, "Choices"),
                           f"`Choices` must be a non-empty list of rules, not {_show(raw)}")
        else:
            for i, rule in enumerate(raw):
                where = (*path, "Choices", i)
                if not isinstance(rule, Mapping):
                    self.error(where, f"a choice rule must be a mapping, not {_show(rule)}")
                    continue
                if "Next" not in rule:
                    self.error(where, "a choice rule needs `Next`: the state to go to when it "
                                      "matches")
                elif not isinstance(rule["Next"], str) or not rule["Next"]:
                    self.error((*where, "Next"),
                               f"`Next` must be a state name, not {_show(rule['Next'])}")
                self.asl_check(where, asl_choice.check_rule, rule)
                rules.append(rule)
        default = self.string(data, "Default", path)
        return ChoiceState(**common, choices=tuple(rules), default=default)

    def state_wait(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        given = [key for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
                 if key in data]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            self.error(path, "a Wait state needs exactly one of `Seconds`, `SecondsPath`, "
                             f"`Timestamp`, `TimestampPath`{found}")
        seconds = self.integer(data, "Seconds", path, minimum=0, maximum=MAX_TIMEOUT_SECONDS)
        timestamp = self.string(data, "Timestamp", path)
        if timestamp is not None and parse_timestamp(timestamp) is None:
            self.error((*path, "Timestamp"),
                       f"`Timestamp` {timestamp!r} is not an ISO-8601 date-time with an offset, "
                       f"like 2016-03-14T01:59:00Z")
        return WaitState(
            **common, seconds=seconds, timestamp=timestamp,
            seconds_path=self.path_field(data, "SecondsPath", path, nullable=False),
            timestamp_path=self.path_field(data, "TimestampPath", path, nullable=False),
        )

    def state_succeed(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        return SucceedState(**common)

    def state_fail(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        values: dict[str, str | None] = {}
        for key, key_path in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            values[key] = self.string(data, key, path)
            values[key_path] = None
            if key in data and key_path in data:
                self.error(path, f"use `{key}` or `{key_path}`, not both")
            if key_path in data:
                values[key_path] = self.dynamic_path(data, key_path, path)
        return FailState(
            **common, error=values["Error"], cause=values["Cause"],
            error_path=values["ErrorPath"], cause_path=values["CausePath"],
        )

    def dynamic_path(self, data: Mapping[str, Any], key: str, path: JsonPath) -> str | None:
        """ErrorPath/CausePath: a path, or an intrinsic function like States.Format(...)."""
        value = data[key]
        if not isinstance(value, str):
            self.error((*path, key), f"`{key}` must be a path or an intrinsic function, "
                                     f"not {_show(value)}")
            return None
        if asl_intrinsics.is_intrinsic(value):
            ok = self.asl_check((*path, key), asl_intrinsics.check, value)
        else:
            ok = self.asl_check((*path, key), asl_paths.check_path, value, key)
        return value if ok else None

    def state_parallel(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        raw = data.get("Branches")
        branches: list[StateBlock] = []
        if not isinstance(raw, list) or not raw:
            if "Branches" not in data:
                self.error(path, "a Parallel state needs `Branches`: a list of {StartAt, States}")
            else:
                self.error((*path, "Branches"),
                           "`Branches` must be a non-empty list of {StartAt, States}, "
                           f"not {_show(raw)}")
        else:
            for i, branch in enumerate(raw):
                block = self.block(branch, (*path, "Branches", i),
                                   f"branch {i} of '{common['name']}'", _BRANCH_FIELDS)
                if block is not None:
                    branches.append(block)
        return ParallelState(
            **common, branches=tuple(branches),
            parameters=self.template(data, "Parameters", path),
            result_selector=self.template(data, "ResultSelector", path),
            result_path=self.result_path(data, path),
            retry=self.retriers(data, path), catch=self.catchers(data, path),
        )

    def state_map(self, data: Mapping[str, Any], path: JsonPath, common: dict) -> State:
        name = common["name"]
        if "ItemProcessor" in data and "Iterator" in data:
            self.error(path, "use `ItemProcessor` or the older `Iterator`, not both")
        key = "ItemProcessor" if "ItemProcessor" in data else "Iterator"
        processor = None
        if key not in data:
            self.error(path, "a Map state needs `ItemProcessor` (or the older `Iterator`): "
                             "{StartAt, States} run for every item")
        else:
            raw = data[key]
            processor = self.block(raw, (*path, key), f"the {key} of '{name}'", _PROCESSOR_FIELDS)
            if isinstance(raw, Mapping) and "ProcessorConfig" in raw:
                self.processor_config(raw["ProcessorConfig"], (*path, key, "ProcessorConfig"))
        if "ItemSelector" in data and "Parameters" in data:
            self.error(path, "use `ItemSelector` or the older `Parameters`, not both")
        selector_key = "ItemSelector" if "ItemSelector" in data else "Parameters"
        concurrency = self.integer(data, "MaxConcurrency", path, minimum=0, maximum=2**31 - 1,
                                   default=0)
        if "MaxConcurrency" in data and "MaxConcurrencyPath" in data:
            self.error(path, "use `MaxConcurrency` or `MaxConcurrencyPath`, not both")
        return MapState(
            **common, processor=processor or StateBlock("", {}, -1),
            items_path=self.path_field(data, "ItemsPath", path, nullable=False, default="$"),
            item_selector=self.template(data, selector_key, path),
            result_selector=self.template(data, "ResultSelector", path),
            result_path=self.result_path(data, path),
            retry=self.retriers(data, path), catch=self.catchers(data, path),
            max_concurrency=concurrency or 0,
            max_concurrency_path=self.path_field(data, "MaxConcurrencyPath", path, nullable=False),
        )

    def processor_config(self, config: Any, path: JsonPath) -> None:
        if not isinstance(config, Mapping):
            self.error(path, f"`ProcessorConfig` must be a mapping, not {_show(config)}")
            return
        self.keys(config, path, ("Mode", "ExecutionType"), "ProcessorConfig")
        mode = config.get("Mode", "INLINE")
        if mode == "DISTRIBUTED":
            self.error((*path, "Mode"), "distributed Map is not supported; use Mode: INLINE")
        elif mode != "INLINE":
            self.error((*path, "Mode"), f"`Mode` must be INLINE, not {_show(mode)}")
        if "ExecutionType" in config:
            self.error((*path, "ExecutionType"),
                       "`ExecutionType` belongs to distributed Map, which is not supported")

    # --- Retry and Catch ---------------------------------------------------------------------

    def error_equals(self, entry: Mapping[str, Any], path: JsonPath) -> tuple[str, ...]:
        raw = entry.get("ErrorEquals")
        if "ErrorEquals" not in entry:
            self.error(path, "`ErrorEquals` is required: a list of error names")
            return ()
        if not isinstance(raw, list) or not raw or not all(isinstance(e, str) and e for e in raw):
            self.error((*path, "ErrorEquals"),
                       f"`ErrorEquals` must be a non-empty list of error names, not {_show(raw)}")
            return ()
        if "States.ALL" in raw and len(raw) > 1:
            self.error((*path, "ErrorEquals"),
                       "`States.ALL` must be the only error name in its ErrorEquals")
        return tuple(raw)

    def entries(self, data: Mapping[str, Any], key: str,
                path: JsonPath) -> list[tuple[JsonPath, Mapping]]:
        if key not in data:
            return []
        raw = data[key]
        if not isinstance(raw, list):
            self.error((*path, key), f"`{key}` must be a list, not {_show(raw)}")
            return []
        found = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                self.error((*path, key, i),
                           f"each {key} entry must be a mapping, not {_show(entry)}")
            else:
                found.append(((*path, key, i), entry))
        self.check_all_last(found, key)
        return found

    def check_all_last(self, entries: list[tuple[JsonPath, Mapping]], key: str) -> None:
        for where, entry in entries[:-1]:
            if entry.get("ErrorEquals") == ["States.ALL"]:
                self.error((*where, "ErrorEquals"),
                           f"the {key} entry with `States.ALL` must be the last one")

    def retriers(self, data: Mapping[str, Any], path: JsonPath) -> tuple[Retrier, ...]:
        retriers = []
        for where, entry in self.entries(data, "Retry", path):
            self.keys(entry, where, _RETRIER_FIELDS, "a retrier")
            backoff = entry.get("BackoffRate", 2.0)
            if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 1.0:
                self.error((*where, "BackoffRate"),
                           f"`BackoffRate` must be a number of at least 1.0, not {_show(backoff)}")
                backoff = 2.0
            jitter = entry.get("JitterStrategy", "NONE")
            if jitter not in ("FULL", "NONE"):
                self.error((*where, "JitterStrategy"),
                           f"`JitterStrategy` must be FULL or NONE, not {_show(jitter)}")
                jitter = "NONE"
            retriers.append(Retrier(
                error_equals=self.error_equals(entry, where),
                interval_seconds=self.integer(entry, "IntervalSeconds", where, minimum=1,
                                              maximum=MAX_INTERVAL_SECONDS, default=1) or 1,
                max_attempts=self.integer(entry, "MaxAttempts", where, minimum=0,
                                          maximum=MAX_ATTEMPTS, default=3) or 0,
                backoff_rate=float(backoff),
                max_delay_seconds=self.integer(entry, "MaxDelaySeconds", where, minimum=1,
                                               maximum=MAX_DELAY_SECONDS),
                jitter_strategy=jitter,
                comment=self.comment(entry, where),
            ))
        return tuple(retriers)

    def catchers(self, data: Mapping[str, Any], path: JsonPath) -> tuple[Catcher, ...]:
        catchers = []
        for where, entry in self.entries(data, "Catch", path):
            self.keys(entry, where, _CATCHER_FIELDS, "a catcher")
            nxt = self.string(entry, "Next", where, required=True, what=" in a catcher")
            catchers.append(Catcher(
                error_equals=self.error_equals(entry, where), next=nxt or "",
                result_path=self.path_field(entry, "ResultPath", where, nullable=True, default="$"),
                comment=self.comment(entry, where),
            ))
        return tuple(catchers)


def _message_of(problem: Any) -> str:
    if isinstance(problem, Exception):
        cause = getattr(problem, "cause", None)
        if isinstance(cause, str) and cause:
            return cause
        message = getattr(problem, "message", None)
        return message if isinstance(message, str) and message else str(problem)
    return str(problem)


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_state_machine(
    data: dict[str, Any], *, locate: Locate | None = None, file: str = "<definition>",
) -> StateMachine:
    """Parse and validate a state machine; raise the first `DefinitionError` (all in `.errors`).

    `locate(path)` returns the source line of a location given as a tuple of keys and indexes
    (e.g. `("States", "Start", "Next")`), or None; the parser asks for the parent path when a
    location has no line of its own.
    """
    parser = _Parser(file, locate)
    machine = parser.machine(data)
    if parser.errors:
        errors = sorted(parser.errors, key=lambda e: (e.line is None, e.line or 0))
        raise DefinitionError.collected(errors)
    assert machine is not None
    return machine
