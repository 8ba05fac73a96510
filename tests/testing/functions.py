"""SDK functions the harness tests drive: a counter with TTL'd state, reminders, egress."""

from __future__ import annotations

from datetime import timedelta

from statefun import (
    IntType,
    StatefulFunctions,
    StringType,
    ValueSpec,
    egress_message_builder,
    make_json_type,
    message_builder,
)

functions = StatefulFunctions()
CALLS: list[str] = []  # every invocation of example/counter, by address id (at-least-once)

COMMAND = make_json_type("example/Command")
EGRESS_RECORD = make_json_type("io.statefun.playground/EgressRecord")
PROFILE = make_json_type("example/Profile")


def emit(context, topic: str, payload: str) -> None:
    context.send_egress(egress_message_builder(
        target_typename="io.statefun.playground/egress",
        value={"topic": topic, "payload": payload}, value_type=EGRESS_RECORD,
    ))


@functions.bind("example/counter", specs=[
    ValueSpec("count", IntType),
    ValueSpec("last", StringType, expire_after_write=timedelta(hours=1)),
    ValueSpec("profile", PROFILE, expire_after_call=timedelta(minutes=10)),
])
def counter(context, message) -> None:
    CALLS.append(context.address.id)
    if message.is_int():
        count = (context.storage.count or 0) + message.as_int()
        context.storage.count = count
        emit(context, "counts", f"{context.address.id}={count}")
    elif message.is_string():
        context.storage.last = message.as_string()
    elif message.is_type(PROFILE):
        context.storage.profile = message.as_type(PROFILE)
    elif message.is_type(COMMAND):
        command = message.as_type(COMMAND)
        if command["op"] == "remind":  # a delayed message to ourselves, cancellable
            context.send_after(
                timedelta(seconds=command["after_s"]),
                message_builder(target_typename="example/counter", target_id=context.address.id,
                                value=command["amount"], value_type=IntType),
                cancellation_token=command.get("token", ""),
            )
        elif command["op"] == "cancel":
            context.cancel_delayed_message(command["token"])
        elif command["op"] == "touch":
            pass  # an invocation that reads state (refreshing after-call TTLs)
