"""The playground greeter: `example/person` counts visits, `example/greeter` greets via egress."""

from __future__ import annotations

from statefun import (
    IntType,
    StatefulFunctions,
    ValueSpec,
    egress_message_builder,
    make_json_type,
    message_builder,
)

GREET_REQUEST = make_json_type("example/GreetRequest")
EGRESS_RECORD = make_json_type("io.statefun.playground/EgressRecord")

functions = StatefulFunctions()


@functions.bind("example/person", specs=[ValueSpec("visits", IntType)])
async def person(context, message):
    """Count this person's visits and ask the greeter to greet them."""
    request = message.as_type(GREET_REQUEST)
    visits = (context.storage.visits or 0) + 1
    context.storage.visits = visits
    context.send(
        message_builder(
            target_typename="example/greeter",
            target_id=request["name"],
            value={"name": request["name"], "visits": visits},
            value_type=GREET_REQUEST,
        )
    )


@functions.bind("example/greeter")
async def greeter(context, message):
    """Emit a greeting record to the playground egress topic `greetings`."""
    request = message.as_type(GREET_REQUEST)
    greeting = (
        f"Hello {request['name']}!" if request["visits"] == 1
        else f"Hello again {request['name']}! That is visit {request['visits']}."
    )
    context.send_egress(
        egress_message_builder(
            target_typename="io.statefun.playground/egress",
            value={"topic": "greetings", "payload": greeting},
            value_type=EGRESS_RECORD,
        )
    )
