"""`baton send | state | egress | parked | resume | dead-letter | dead-letters` against running runtimes."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from click.testing import CliRunner, Result
from statefun import (
    IntType,
    StatefulFunctions,
    ValueSpec,
    kafka_egress_message,
    make_json_type,
)

from baton.cli import cli
from functions.messages import TOPIC_COMPLETED, TOPIC_INCOMPLETE
from proto.orders_pb2 import OrderLine
from tests.conftest import eventually, playground_module
from tests.example.conftest import pass_the_deadline


async def baton(*args: str, input: bytes | str | None = None, env: dict | None = None) -> Result:
    """Run the CLI in a thread: it blocks on HTTP while the runtime serves on this loop."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), input=input, env=env)


# --- functions for the built-in types and for parking -------------------------------------

SEEN = make_json_type("cli/Seen")
failing = {"on": True}


def probe_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("cli/probe", specs=[ValueSpec("last", SEEN)])
    async def probe(context, message):
        value = None
        for check, read in ((message.is_int, message.as_int), (message.is_long, message.as_long),
                            (message.is_bool, message.as_bool), (message.is_double, message.as_double),
                            (message.is_float, message.as_float), (message.is_string, message.as_string)):
            if check():
                value = read()
                break
        else:
            value = message.raw_value().decode()
        context.storage.last = {"typename": message.value_typename(), "value": value}

    @functions.bind("cli/kafka")
    async def to_kafka(context, message):
        context.send_egress(kafka_egress_message(
            typename="cli/kafka-out", topic="receipts", key=context.address.id, value=message.as_string()
        ))

    @functions.bind("cli/fragile", specs=[ValueSpec("seen", IntType)])
    async def fragile(context, message):
        if failing["on"]:
            raise RuntimeError("the database is down")
        context.storage.seen = (context.storage.seen or 0) + 1

    return functions


@pytest.fixture
async def probe_app(function_server, start_app):
    failing["on"] = True
    kafka = """
---
kind: io.statefun.kafka.v1/egress
spec:
  id: cli/kafka-out
  address: 127.0.0.1:1  # nothing listens: records wait in the outbox
  deliverySemantic:
    type: at-least-once
"""
    url = await function_server(probe_functions())
    return await start_app(playground_module(url, namespace="cli", extra=kafka))


# --- send + state + egress on the example ---------------------------------------------------


async def test_send_state_and_egress_drive_an_order(orders_app, tmp_path):
    admin = orders_app.admin
    sent = await baton("send", "orders/order/o-7", "--type", "orders/OrderHeader", "--admin", admin,
                       '{"customer_id": "c-7", "line_count": 2, "card_number": "4242424242424242"}')
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip().startswith("sent to orders/order/o-7: orders/OrderHeader,")

    line_file = tmp_path / "line.json"
    line_file.write_text('{"line_no": 1, "sku": "MUG-04", "quantity": 2, "unit_price_cents": 1200}')
    result = await baton("send", "orders/order/o-7", "--type", "orders/OrderLine", f"@{line_file}",
                         env={"BATON_ADMIN": admin})
    assert result.exit_code == 0, result.output

    async def pending_has_line() -> bool:
        state = await orders_app.state("orders/order/o-7")
        return "1" in state.get("pending", {}).get("json", {}).get("lines", {})

    await eventually(pending_has_line)
    shown = await baton("state", "orders/order/o-7", "--admin", admin)
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("orders/order/o-7\n  pending  [orders/PendingOrder]\n")
    assert '"customer_id": "c-7"' in shown.output and '"sku": "MUG-04"' in shown.output
    as_json = json.loads((await baton("state", "orders/order/o-7", "--json", "--admin", admin)).output)
    assert as_json["state"]["pending"]["json"]["header"]["line_count"] == 2

    # The second line as serialized protobuf, from stdin.
    line = OrderLine(order_id="o-7", line_no=2, sku="PEN-06", quantity=1, unit_price_cents=350)
    result = await baton("send", "orders/order/o-7", "--type", "type.googleapis.com/orders.OrderLine",
                         "-", "--admin", admin, input=line.SerializeToString())
    assert result.exit_code == 0, result.output

    taken = await baton("egress", TOPIC_COMPLETED, "--wait", "10", "--max", "1", "--admin", admin)
    assert taken.exit_code == 0, taken.output
    completed = json.loads(taken.output)
    assert completed["header"]["order_id"] == "o-7"
    assert [l["sku"] for l in completed["lines"]] == ["MUG-04", "PEN-06"]
    assert completed["total_cents"] == str(2 * 1200 + 350)

    done = await baton("state", "orders/order/o-7", "--admin", admin)
    assert "pending" not in done.output and '"completed"' in done.output and "expires in" in done.output
    empty = await baton("egress", TOPIC_COMPLETED, "--wait", "0", "--admin", admin)
    assert empty.exit_code == 0 and empty.stdout == "" and "no records" in empty.stderr


async def test_egress_follow_waits_for_records_that_come_later(orders_app):
    admin = orders_app.admin
    follow = asyncio.ensure_future(
        baton("egress", TOPIC_INCOMPLETE, "--follow", "--max", "1", "--admin", admin)
    )
    # Not through the CLI: CliRunner swaps sys.stdout, so two cannot run at once.
    body = b'{"line_no": 1, "sku": "MUG-04", "quantity": 1}'
    assert await orders_app.send("orders/order/o-late", body, "application/vnd.orders/OrderLine") == 202
    # The scenario: the alert comes later than a reader without --follow waits (1 s).
    await asyncio.sleep(1.2)
    assert not follow.done()
    await pass_the_deadline(orders_app)
    followed = await asyncio.wait_for(follow, 30)
    assert followed.exit_code == 0, followed.output
    assert json.loads(followed.output)["order_id"] == "o-late"


async def test_send_encodes_built_in_types(probe_app, tmp_path):
    admin = probe_app.admin
    cases = [
        (["--type", "int", "42"], "io.statefun.types/int", 42),
        (["--type", "long", "--", "-9000000000"], "io.statefun.types/long", -9000000000),
        (["--type", "bool", "true"], "io.statefun.types/bool", True),
        (["--type", "double", "2.5"], "io.statefun.types/double", 2.5),
        (["--type", "float", "0.5"], "io.statefun.types/float", 0.5),
        (["hello there"], "io.statefun.types/string", "hello there"),
        (["--type", "cli/Custom", '{"a": 1}'], "cli/Custom", '{"a": 1}'),
    ]
    for n, (args, typename, value) in enumerate(cases):
        result = await baton("send", f"cli/probe/p{n}", "--admin", admin, *args)
        assert result.exit_code == 0, result.output

        async def seen(n=n) -> bool:
            return "last" in await probe_app.state(f"cli/probe/p{n}")

        await eventually(seen)
        last = (await probe_app.state(f"cli/probe/p{n}"))["last"]["json"]
        assert last == {"typename": typename, "value": value}

    result = await baton("send", "cli/probe/stdin", "--type", "int", "-", "--admin", admin, input="7\n")
    assert result.exit_code == 0, result.output
    await eventually(lambda: _has(probe_app, "cli/probe/stdin"))
    assert (await probe_app.state("cli/probe/stdin"))["last"]["json"]["value"] == 7


async def test_egress_sends_kafka_readers_to_kafka(probe_app):
    # A Kafka (or Kinesis) egress publishes its records: taking them here would keep them from it.
    admin = probe_app.admin
    kafka = await baton("egress", "receipts", "--egress", "cli/kafka-out", "--admin", admin)
    assert kafka.exit_code == 1
    assert "publishes its records (to Kafka or Kinesis); read them there" in kafka.output


async def _has(app, address: str) -> bool:
    return "last" in await app.state(address)


async def test_errors_say_what_to_do(probe_app):
    admin = probe_app.admin
    bad = await baton("send", "cli-probe", "x", "--admin", admin)
    assert bad.exit_code == 2 and "write <namespace>/<type>/<id>" in bad.output
    unknown = await baton("send", "nope/thing/1", "x", "--admin", admin)
    assert unknown.exit_code == 1
    assert "no endpoint serves function type nope/thing; check module.yaml" in unknown.output
    not_int = await baton("send", "cli/probe/x", "--type", "int", "forty", "--admin", admin)
    assert not_int.exit_code == 2 and "'forty' is not a int" in not_int.output
    bad_type = await baton("send", "cli/probe/x", "--type", "Custom", "x", "--admin", admin)
    assert bad_type.exit_code == 2 and "is not a typename" in bad_type.output
    no_egress = await baton("egress", "t", "--egress", "nope/egress", "--admin", admin)
    assert no_egress.exit_code == 1 and "no egress 'nope/egress' is declared" in no_egress.output

    bad_url = await baton("parked", "--admin", "http://127.0.0.1:notaport")
    assert bad_url.exit_code == 2 and "'http://127.0.0.1:notaport' is not a URL" in bad_url.output

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    for args in (["state", "cli/probe/x"], ["send", "cli/probe/x", "y"], ["parked"], ["egress", "t"]):
        down = await baton(*args, "--admin", closed)
        assert down.exit_code == 1, args
        assert f"cannot reach the baton admin API at {closed}" in down.output
        assert "is `baton run` running?" in down.output


async def test_parked_resume_and_dead_letter(probe_app):
    admin = probe_app.admin
    assert (await baton("parked", "--admin", admin)).output.strip() == "no parked addresses"
    for n in range(2):
        assert (await baton("send", "cli/fragile/a", f"m{n}", "--admin", admin)).exit_code == 0

    async def parked() -> bool:
        return bool(await probe_app.admin_get("/parked"))

    await eventually(parked, timeout=30)  # after the 2 s call timeout of failing attempts
    listing = await baton("parked", "--admin", admin)
    assert listing.exit_code == 0
    assert listing.output.startswith("cli/fragile/a  parked ")
    assert "2 message(s) waiting" in listing.output and "the database is down" in listing.output

    moved = await baton("dead-letter", "cli/fragile/a", "--admin", admin)
    assert moved.exit_code == 0, moved.output
    assert "dead-lettered a io.statefun.types/string message to cli/fragile/a" in moved.output
    letters = [json.loads(l) for l in (await baton("dead-letters", "--admin", admin)).output.splitlines()]
    assert [l["target"] for l in letters] == ["cli/fragile/a"]

    await eventually(parked, timeout=30)  # the second message fails too
    failing["on"] = False
    resumed = await baton("resume", "cli/fragile/a", "--admin", admin)
    assert resumed.exit_code == 0 and resumed.output.strip() == "resumed cli/fragile/a"

    async def applied() -> bool:
        return (await probe_app.state("cli/fragile/a")).get("seen", {}).get("value") == 1

    await eventually(applied)
    again = await baton("resume", "cli/fragile/a", "--admin", admin)
    assert again.exit_code == 1 and "cli/fragile/a is not parked" in again.output


async def test_every_command_has_help_with_examples():
    for command in ("send", "state", "egress", "parked", "resume", "dead-letter", "dead-letters"):
        result = await baton(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output and "--admin URL" in result.output, command
