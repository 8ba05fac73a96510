"""The embedded runtime driving official Python SDK functions over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from aiohttp import web
from statefun import (
    IntType,
    RequestReplyHandler,
    StatefulFunctions,
    StringType,
    ValueSpec,
    egress_message_builder,
    make_json_type,
    message_builder,
)

from baton.module import load_module_text
from baton.module.specs import TypeName
from baton.runtime import Address
from tests.conftest import eventually, playground_module, serve_app

EGRESS_RECORD = make_json_type("io.statefun.playground/EgressRecord")
JSON = make_json_type("example/Json")


def emit(context, topic: str, payload) -> None:
    """Send a playground egress record (payload JSON-encoded unless already a string)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, sort_keys=True)
    context.send_egress(
        egress_message_builder(
            target_typename="io.statefun.playground/egress",
            value={"topic": topic, "payload": text},
            value_type=EGRESS_RECORD,
        )
    )


def greeter_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/person", specs=[ValueSpec("visits", IntType)])
    async def person(context, message):
        request = message.as_type(JSON)
        visits = (context.storage.visits or 0) + 1
        context.storage.visits = visits
        context.send(
            message_builder(
                target_typename="example/greeter",
                target_id=request["name"],
                value={"name": request["name"], "visits": visits},
                value_type=JSON,
            )
        )

    @functions.bind("example/greeter")
    async def greeter(context, message):
        request = message.as_type(JSON)
        caller = context.caller
        emit(
            context,
            "greetings",
            {
                "greeting": f"Hello {request['name']} #{request['visits']}",
                "caller": f"{caller.namespace}/{caller.name}/{caller.id}" if caller else None,
            },
        )

    return functions


async def test_greeter_flow_counts_forwards_and_egresses(function_server, start_app):
    url = await function_server(greeter_functions())
    app = await start_app(playground_module(url))

    for name in ["Bob", "Alice", "Bob"]:
        assert await app.send(f"example/person/{name}", json.dumps({"name": name})) == 202

    records = [json.loads(await app.take("greetings")) for _ in range(3)]
    greetings = sorted(r["greeting"] for r in records)
    assert greetings == ["Hello Alice #1", "Hello Bob #1", "Hello Bob #2"]
    assert {r["caller"] for r in records} == {"example/person/Bob", "example/person/Alice"}
    assert await app.take("greetings", wait=0) is None  # exactly three records

    state = await app.state("example/person/Bob")
    assert state["visits"] == {"typename": "io.statefun.types/int", "value": 2, "expires_at": None}
    metrics = await app.admin_get("/metrics.json")
    assert metrics["functions"]["example/person"]["messages_in"] == 3
    assert metrics["functions"]["example/greeter"]["out_egress"] == 3


async def test_ingress_message_has_no_caller_and_messages_are_fifo(function_server, start_app):
    functions = StatefulFunctions()

    @functions.bind("example/log", specs=[ValueSpec("seen", StringType)])
    async def log(context, message):
        emit(context, "out", {"n": message.as_type(JSON)["n"], "caller": str(context.caller)})

    app = await start_app(playground_module(await function_server(functions)))
    for n in range(50):
        assert await app.send("example/log/one", json.dumps({"n": n})) == 202
    records = [json.loads(await app.take("out")) for _ in range(50)]
    assert [r["n"] for r in records] == list(range(50))
    assert {r["caller"] for r in records} == {"None"}


async def test_messages_arriving_in_flight_go_in_the_next_batch(function_server, start_app):
    """One batch in flight per address; the backlog is sent as one batch after the reply."""
    release = asyncio.Event()
    functions = StatefulFunctions()

    @functions.bind("example/slow", specs=[ValueSpec("count", IntType)])
    async def slow(context, message):
        n = message.as_type(JSON)["n"]
        if n == 0:
            await release.wait()
        context.storage.count = (context.storage.count or 0) + 1
        emit(context, "out", {"n": n, "count": context.storage.count})

    url = await function_server(functions)
    app = await start_app(playground_module(url))
    assert await app.send("example/slow/x", json.dumps({"n": 0})) == 202
    await eventually(lambda: app.runtime.metrics.of(_type("example/slow")).requests >= 2)
    for n in range(1, 6):
        await app.send("example/slow/x", json.dumps({"n": n}))
    assert app.runtime.backlog(_addr("example/slow/x")) == 6  # 1 in flight + 5 queued
    release.set()
    records = [json.loads(await app.take("out")) for _ in range(6)]
    assert [r["n"] for r in records] == list(range(6))
    assert [r["count"] for r in records] == list(range(1, 7))
    metrics = app.runtime.metrics.of(_type("example/slow"))
    assert metrics.batches == 2  # [0] then [1..5] together


def _type(text: str) -> TypeName:
    return TypeName.parse(text)


def _addr(text: str) -> Address:
    return Address.parse(text)


async def test_delayed_message_fires_after_its_delay(baton_harness):
    """On a virtual clock (over real HTTP): not a millisecond early, and from its sender."""
    functions = StatefulFunctions()

    @functions.bind("example/timer")
    async def timer(context, message):
        if message.as_type(JSON)["kind"] == "start":
            context.send_after(
                timedelta(milliseconds=300),
                message_builder(
                    target_typename="example/timer", target_id=context.address.id,
                    value={"kind": "fired"}, value_type=JSON,
                ),
            )
        else:
            emit(context, "out", {"caller": str(context.caller.id)})

    h = await baton_harness(harness_module(), functions, http=True)
    await h.send("example/timer/t1", {"kind": "start"}, type=JSON)
    await h.advance(timedelta(milliseconds=299))
    assert await h.egress("out") == []
    await h.advance(timedelta(milliseconds=1))
    [record] = await h.egress("out")
    assert record.json()["caller"] == "t1"  # a delayed message comes from its sender


def harness_module():
    """playground_module for baton.testing's Harness (which points the endpoint at its server)."""
    return load_module_text(playground_module("http://replaced-by-the-harness.invalid/statefun"))


def canceller_functions() -> StatefulFunctions:
    """`example/sched` schedules/cancels by token; `example/sink` reports what arrives."""
    functions = StatefulFunctions()

    @functions.bind("example/sched")
    async def sched(context, message):
        body = message.as_type(JSON)
        if body["op"] == "schedule":
            context.send_after(
                timedelta(milliseconds=body["ms"]),
                message_builder(
                    target_typename="example/sink", target_id="s",
                    value={"label": body["label"]}, value_type=JSON,
                ),
                cancellation_token=body.get("token", ""),
            )
        else:
            context.cancel_delayed_message(body["token"])

    @functions.bind("example/other")
    async def other(context, message):
        context.cancel_delayed_message(message.as_type(JSON)["token"])

    @functions.bind("example/sink")
    async def sink(context, message):
        emit(context, "out", message.as_type(JSON)["label"])

    return functions


async def labels(h) -> list[str]:
    """Fire every delayed message (virtual time); the labels that arrived, in order."""
    await h.until_idle(timers=True)
    return [record.payload for record in await h.egress("out")]


async def test_cancellation_before_the_delay_wins(baton_harness):
    h = await baton_harness(harness_module(), canceller_functions(), http=True)
    await h.send("example/sched/a", {"op": "schedule", "ms": 400, "token": "t", "label": "cancelled"},
                 type=JSON)
    await h.send("example/sched/a", {"op": "cancel", "token": "t"}, type=JSON)
    await h.send("example/sched/a", {"op": "schedule", "ms": 800, "label": "sentinel"}, type=JSON)
    assert await labels(h) == ["sentinel"]


async def test_cancellation_tokens_are_scoped_by_sender_id(baton_harness):
    h = await baton_harness(harness_module(), canceller_functions(), http=True)
    await h.send("example/sched/a", {"op": "schedule", "ms": 400, "token": "t", "label": "from-a"},
                 type=JSON)
    # Another id cannot cancel it (no-op) ...
    await h.send("example/sched/b", {"op": "cancel", "token": "t"}, type=JSON)
    assert await labels(h) == ["from-a"]
    # ... but another function type with the same id can (StateFun keys by id only).
    await h.send("example/sched/a", {"op": "schedule", "ms": 400, "token": "u", "label": "from-a-2"},
                 type=JSON)
    await h.send("example/other/a", {"token": "u"}, type=JSON)
    await h.send("example/sched/a", {"op": "schedule", "ms": 800, "label": "sentinel"}, type=JSON)
    assert await labels(h) == ["sentinel"]
    # A token can be reused once its message was delivered or cancelled.
    await h.send("example/sched/a", {"op": "schedule", "ms": 10, "token": "t", "label": "reused"},
                 type=JSON)
    assert await labels(h) == ["reused"]


async def test_duplicate_pending_token_parks_the_sender(function_server, start_app):
    app = await start_app(playground_module(await function_server(canceller_functions())))
    await app.send("example/sched/a", json.dumps({"op": "schedule", "ms": 60000, "token": "t", "label": "x"}))
    await app.send("example/sched/a", json.dumps({"op": "schedule", "ms": 60000, "token": "t", "label": "y"}))
    await app.runtime.until(lambda: bool(app.runtime.parked()), 10)
    [parked] = await app.admin_get("/parked")
    assert parked["address"] == "example/sched/a"
    assert "already pending" in parked["reason"]
    assert parked["backlog"] == 1


def ttl_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    def bind(typename: str, **ttl):
        @functions.bind(typename, specs=[ValueSpec("value", StringType, **ttl)])
        async def fn(context, message):
            body = message.as_type(JSON)
            if body["op"] == "write":
                context.storage.value = body["value"]
            emit(context, "out", {"op": body["op"], "value": context.storage.value})

    bind("example/after_write", expire_after_write=timedelta(milliseconds=400))
    bind("example/after_call", expire_after_call=timedelta(milliseconds=400))
    return functions


async def _read(h, address: str):
    await h.send(address, {"op": "read"}, type=JSON)
    await h.until_idle()
    [record] = await h.egress("out")
    return record.json()["value"]


async def test_ttl_after_write_expires_even_when_read(baton_harness):
    h = await baton_harness(harness_module(), ttl_functions(), http=True)
    address = "example/after_write/k"
    await h.send(address, {"op": "write", "value": "v"}, type=JSON)
    await h.until_idle()
    assert [r.json()["value"] for r in await h.egress("out")] == ["v"]
    # Reads do not refresh an after-write TTL: it expires 400 ms after the write.
    for _ in range(3):
        await h.advance(timedelta(milliseconds=130))
        assert await _read(h, address) == "v"
    await h.advance(timedelta(milliseconds=20))
    assert await _read(h, address) is None
    assert h.state(address) == {}


async def test_ttl_after_call_is_refreshed_by_every_invocation(baton_harness):
    h = await baton_harness(harness_module(), ttl_functions(), http=True)
    address = "example/after_call/k"
    await h.send(address, {"op": "write", "value": "v"}, type=JSON)
    await h.until_idle()
    await h.egress("out")
    for _ in range(10):  # 2.5x the TTL, kept alive by a read every 100 ms
        await h.advance(timedelta(milliseconds=100))
        assert await _read(h, address) == "v"
    await h.advance(timedelta(milliseconds=410))  # idle for the TTL
    assert await _read(h, address) is None


async def test_function_that_declares_new_state_after_first_call(function_server, start_app):
    v1 = StatefulFunctions()

    @v1.bind("example/evolving", specs=[ValueSpec("a", IntType)])
    async def evolving_v1(context, message):
        context.storage.a = (context.storage.a or 0) + 1
        emit(context, "out", {"a": context.storage.a})

    v2 = StatefulFunctions()

    @v2.bind("example/evolving", specs=[ValueSpec("a", IntType), ValueSpec("b", StringType)])
    async def evolving_v2(context, message):
        context.storage.a = (context.storage.a or 0) + 1
        context.storage.b = f"b{context.storage.a}"
        emit(context, "out", {"a": context.storage.a, "b": context.storage.b})

    # One URL, redeployed: the server answers with whichever version is deployed now.
    deployed = [RequestReplyHandler(v1)]

    async def invoke(request: web.Request) -> web.Response:
        reply = await deployed[0].handle_async(await request.read())
        return web.Response(body=reply, content_type="application/octet-stream")

    server = web.Application()
    server.router.add_post("/statefun", invoke)
    runner, url = await serve_app(server)
    app = await start_app(playground_module(f"{url}/statefun"))
    await app.send("example/evolving/x", "{}")
    assert json.loads(await app.take("out")) == {"a": 1}
    deployed[0] = RequestReplyHandler(v2)
    await app.send("example/evolving/x", "{}")
    assert json.loads(await app.take("out")) == {"a": 2, "b": "b2"}
    registered = app.runtime._registry.specs(_type("example/evolving"))  # the registry itself
    assert sorted(registered) == ["a", "b"]
    await runner.cleanup()


async def test_function_failing_twice_then_succeeding_applies_effects_once(function_server, start_app):
    attempts = 0
    functions = StatefulFunctions()

    @functions.bind("example/flaky", specs=[ValueSpec("count", IntType)])
    async def flaky(context, message):
        nonlocal attempts
        attempts += 1
        context.storage.count = (context.storage.count or 0) + 1
        emit(context, "out", {"count": context.storage.count})
        if attempts <= 2:  # the SDK answers the state-less first round without calling us
            raise RuntimeError("transient")

    app = await start_app(playground_module(await function_server(functions)))
    await app.send("example/flaky/x", "{}")
    assert json.loads(await app.take("out")) == {"count": 1}
    assert await app.take("out", wait=0.2) is None
    assert (await app.state("example/flaky/x"))["count"]["value"] == 1
    assert app.runtime.metrics.of(_type("example/flaky")).invocation_failures == 2


async def test_always_failing_function_is_parked_then_resumed(function_server, start_app):
    broken = True
    functions = StatefulFunctions()

    @functions.bind("example/fragile", specs=[ValueSpec("count", IntType)])
    async def fragile(context, message):
        body = message.as_type(JSON)
        if broken and body["who"] == "bad":
            raise RuntimeError("boom")
        context.storage.count = (context.storage.count or 0) + 1
        emit(context, "out", {"who": body["who"], "count": context.storage.count})

    yaml = playground_module(await function_server(functions)).replace("call: 2s", "call: 300ms")
    app = await start_app(yaml)
    await app.send("example/fragile/bad", json.dumps({"who": "bad"}))
    await app.send("example/fragile/bad", json.dumps({"who": "bad"}))
    await app.runtime.until(lambda: bool(app.runtime.parked()), 10)
    [parked] = await app.admin_get("/parked")
    assert parked["address"] == "example/fragile/bad"
    assert "RuntimeError: boom" in parked["reason"] and "gave up" in parked["reason"]
    assert parked["backlog"] == 2

    # Other addresses keep flowing.
    await app.send("example/fragile/good", json.dumps({"who": "good"}))
    assert json.loads(await app.take("out")) == {"who": "good", "count": 1}

    # Still broken: resuming parks it again; fixed: resuming delivers both messages, in order.
    broken = False
    status, _ = await app.admin_post("/parked/example/fragile/bad/resume")
    assert status == 200
    assert [json.loads(await app.take("out")) for _ in range(2)] == [
        {"who": "bad", "count": 1},
        {"who": "bad", "count": 2},
    ]
    assert await app.admin_get("/parked") == []
    status, _ = await app.admin_post("/parked/example/fragile/bad/resume")
    assert status == 404


async def test_dead_lettering_the_head_message_resumes_the_rest(function_server, start_app):
    functions = StatefulFunctions()

    @functions.bind("example/picky")
    async def picky(context, message):
        body = message.as_type(JSON)
        if body.get("poison"):
            raise ValueError("cannot digest")
        emit(context, "out", body["n"])

    yaml = playground_module(await function_server(functions)).replace("call: 2s", "call: 200ms")
    app = await start_app(yaml)
    await app.send("example/picky/x", json.dumps({"poison": True}))
    await app.runtime.until(lambda: bool(app.runtime.parked()), 10)
    await app.send("example/picky/x", json.dumps({"n": "after"}))
    status, body = await app.admin_post("/parked/example/picky/x/dead-letter")
    assert status == 200, body
    assert await app.take("out") == "after"
    [letter] = await app.admin_get("/dead-letters")
    assert letter["argument"]["json"] == {"poison": True}
    assert "cannot digest" in letter["reason"]


async def test_undeclared_egress_and_undeclared_state_park_only_the_sender(function_server, start_app):
    functions = StatefulFunctions()

    @functions.bind("example/rogue")
    async def rogue(context, message):
        context.send_egress(
            egress_message_builder(target_typename="example/nowhere", value="x", value_type=StringType)
        )

    app = await start_app(playground_module(await function_server(functions)))
    await app.send("example/rogue/x", "{}")
    await app.runtime.until(lambda: bool(app.runtime.parked()), 10)
    [parked] = await app.admin_get("/parked")
    assert "undeclared egress 'example/nowhere'" in parked["reason"]


async def test_message_to_a_type_without_endpoint_parks_the_target(function_server, start_app):
    functions = StatefulFunctions()

    @functions.bind("example/sender")
    async def sender(context, message):
        context.send(message_builder(target_typename="ghost/fn", target_id="g", str_value="hi"))
        emit(context, "out", "sent")

    app = await start_app(playground_module(await function_server(functions)))
    await app.send("example/sender/x", "{}")
    assert await app.take("out") == "sent"
    [parked] = await app.admin_get("/parked")
    assert parked["address"] == "ghost/fn/g"
    assert "no endpoint serves function type ghost/fn" in parked["reason"]
    assert parked["backlog"] == 1  # kept, not dropped


async def test_playground_status_codes(function_server, start_app):
    app = await start_app(playground_module(await function_server(greeter_functions())))
    session = app.session
    async with session.put(f"{app.ingress}/example/person") as r:
        assert r.status == 400 and "Invalid URL" in await r.text()
    async with session.put(f"{app.ingress}/nope/person/x", data=b"{}") as r:
        assert r.status == 404 and "nope/person" in await r.text()
    headers = {"Content-Type": "application/vnd.noslash"}
    async with session.put(f"{app.ingress}/example/person/x", data=b"{}", headers=headers) as r:
        assert r.status == 415 and "application/vnd.<namespace>/<name>" in await r.text()
    async with session.get(f"{app.egress}/greetings") as r:
        assert r.status == 404
    async with session.get(f"{app.egress}/unknown") as r:
        assert r.status == 400 and "unknown topic" in await r.text()
    health = await app.admin_get("/health")
    assert health["status"] == "ok"
    module = await app.admin_get("/module")
    assert module["functions"] == ["example/*"]


async def test_an_egress_reader_that_goes_away_takes_nothing(function_server, start_app):
    from baton.runtime.messages import EgressRecord

    app = await start_app(playground_module(await function_server(greeter_functions())))
    waiting = asyncio.ensure_future(app.session.get(f"{app.egress}/greetings", params={"wait": "5"}))
    # The egress router itself: a reader waits on it, then goes away.
    await eventually(lambda: len(app.runtime._egress._arrivals) > 0)  # the reader is waiting
    waiting.cancel()  # ... and goes away (Ctrl-C, a client timeout)
    await asyncio.gather(waiting, return_exceptions=True)
    app.runtime._egress.publish(EgressRecord(
        "io.statefun.playground/egress", "io.statefun.playground/EgressRecord",
        b'{"topic": "greetings", "payload": "hello"}', "greetings",
    ))
    assert await app.take("greetings") == "hello"  # not lost to the departed reader
