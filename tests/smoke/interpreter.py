"""`statefun.smoke.e2e/command-interpreter-fn` with the official Python SDK (`statefun`).

Like the JS/Go/Java remote interpreters of StateFun's smoke e2e, plus cancellation: it
interprets each command of a `statefun.smoke.e2e/commands` message (a JSON list, see
`tests.smoke.commands`) against its `state` (int).
"""

from __future__ import annotations

import json
from datetime import timedelta

from statefun import (
    IntType,
    StatefulFunctions,
    ValueSpec,
    egress_message_builder,
    make_json_type,
    message_builder,
)

from .commands import (
    COMMANDS_TYPE,
    EVENTS_TOPIC,
    FUNCTION_TYPE,
    VERIFICATION_TOPIC,
    egress_payload,
)

COMMANDS = make_json_type(COMMANDS_TYPE)
EGRESS_RECORD = make_json_type("io.statefun.playground/EgressRecord")
PLAYGROUND_EGRESS = "io.statefun.playground/egress"


def _emit(context, topic: str, payload: str) -> None:
    context.send_egress(
        egress_message_builder(
            target_typename=PLAYGROUND_EGRESS,
            value={"topic": topic, "payload": payload},
            value_type=EGRESS_RECORD,
        )
    )


def _message(target: str, commands: list[dict]):
    return message_builder(
        target_typename=FUNCTION_TYPE, target_id=target, value=commands, value_type=COMMANDS
    )


def interpret(context, commands: list[dict]) -> None:
    """Apply one command list in the function's context."""
    storage = context.storage
    for command in commands:
        op = command["op"]
        if op == "increment":
            storage.state = (storage.state or 0) + 1
        elif op == "send":
            context.send(_message(command["target"], command["commands"]))
        elif op == "send_after":
            context.send_after(
                timedelta(milliseconds=command["delay_ms"]),
                _message(command["target"], command["commands"]),
                cancellation_token=command.get("token", ""),
            )
        elif op == "cancel":
            context.cancel_delayed_message(command["token"])
        elif op == "egress":
            _emit(context, EVENTS_TOPIC, egress_payload(context.address.id, command["seq"]))
        elif op == "verify":
            result = {"id": context.address.id, "actual": storage.state or 0}
            if "expected" in command:
                result["expected"] = command["expected"]
            _emit(context, VERIFICATION_TOPIC, json.dumps(result, sort_keys=True))
        elif op == "noop":
            pass
        else:
            raise ValueError(f"unknown smoke command {command!r}")


def smoke_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind(FUNCTION_TYPE, specs=[ValueSpec("state", IntType)])
    def command_interpreter(context, message):
        interpret(context, message.as_type(COMMANDS))

    return functions
