"""One ingress request followed through two functions and a workflow task as one trace."""

from __future__ import annotations

import json

from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from statefun import StatefulFunctions, make_json_type, message_builder

from baton.runtime.observability.tracing import tracer_provider_from_env
from baton.serve import function_app
from baton.tasks import Tasks
from tests.conftest import playground_module, serve_app

JSON = make_json_type("trace/Json")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"

FLOW = """---
kind: baton.workflows.v1/workflow
spec:
  id: trace/flow
  definition:
    StartAt: Work
    States:
      Work: {Type: Task, Resource: trace/work, End: true}
"""


def traced_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("trace/a")
    async def a(context, message):
        context.send(message_builder(target_typename="trace/b", target_id=context.address.id,
                                     value=message.as_type(JSON), value_type=JSON))

    @functions.bind("trace/b")
    async def b(context, message):  # starts a workflow execution (and gets its result back)
        if not message.is_type(JSON):
            return
        context.send(message_builder(target_typename="trace/flow", target_id=context.address.id,
                                     value=message.as_type(JSON), value_type=JSON))

    tasks = Tasks(functions)

    @tasks.task("trace/work")
    async def work(order: dict) -> dict:
        return {"worked": order["n"]}

    return functions


async def test_one_request_is_one_trace_through_functions_and_a_workflow_task(start_app):
    headers_seen: list[tuple[str, str | None]] = []

    @web.middleware
    async def record(request: web.Request, handler):
        headers_seen.append((request.path, request.headers.get("traceparent")))
        return await handler(request)

    app_ = function_app(traced_functions())
    app_.middlewares.append(record)
    runner, url = await serve_app(app_)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        app = await start_app(
            playground_module(f"{url}/statefun", namespace="trace") + FLOW, tracer_provider=provider
        )
        async with app.session.put(
            f"{app.ingress}/trace/a/o1", data=json.dumps({"n": 7}),
            headers={"Content-Type": "application/vnd.trace/Json",
                     "traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-01"},
        ) as response:
            assert response.status == 202
        # Done when b has had the execution's result back.
        await app.runtime.until(
            lambda: len([s for s in exporter.get_finished_spans() if s.name == "invoke trace/b"]) == 2,
            timeout=10,
        )
    finally:
        await runner.cleanup()

    spans = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time)
    by_name: dict[str, list] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    assert {"invoke trace/a", "invoke trace/b", "invoke trace/flow", "invoke trace/work"} <= set(by_name)
    assert {f"{s.context.trace_id:032x}" for s in spans} == {TRACE_ID}, "every span in the request's trace"

    (a,), (work,) = by_name["invoke trace/a"], by_name["invoke trace/work"]
    b, b_result = by_name["invoke trace/b"]
    flows = by_name["invoke trace/flow"]
    assert f"{a.parent.span_id:016x}" == CLIENT_SPAN  # the ingress request's caller
    assert b.parent.span_id == a.context.span_id
    assert flows[0].parent.span_id == b.context.span_id  # the start message, sent by b
    assert work.parent.span_id == flows[0].context.span_id  # the task, sent by the workflow
    assert flows[-1].parent.span_id == work.context.span_id  # the task's result
    assert b_result.parent.span_id == flows[-1].context.span_id  # the execution's result
    assert work.attributes["baton.address"].startswith("trace/work/o1:")
    # Messages are events (and links) of their batch.
    assert [e.attributes["baton.caller"] for e in b.events] == ["trace/a/o1"]
    assert [f"{link.context.span_id:016x}" for link in a.links] == [CLIENT_SPAN]
    # The function received the batch's context as the StateFun request's traceparent header.
    assert (("/statefun", f"00-{TRACE_ID}-{a.context.span_id:016x}-01") in headers_seen)


async def test_a_failed_batch_is_an_error_span(function_server, start_app):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    functions = StatefulFunctions()

    @functions.bind("trace/broken")
    async def broken(context, message):
        context.storage.undeclared = 1  # not declared: the SDK raises, the call fails

    app = await start_app(
        playground_module(await function_server(functions), namespace="trace",
                          endpoint="transport:\n    call: 200ms"),
        tracer_provider=provider,
    )
    assert await app.send("trace/broken/x", "{}", "application/vnd.trace/Json") == 202
    await app.runtime.until(lambda: bool(app.runtime.parked()), timeout=10)
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "invoke trace/broken"]
    assert not span.status.is_ok
    assert [e.name for e in span.events][-1] == "parked"


def test_tracing_is_off_unless_the_otel_variables_say_so():
    assert tracer_provider_from_env({}) is None
    assert tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert tracer_provider_from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}
    ) is None
    provider = tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "shop"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "shop"
    provider.shutdown()


def test_malformed_traceparents_start_new_traces():
    from baton.runtime.observability.tracing import BatchTracing

    parse = BatchTracing._context
    for bad in ("", "nonsense", f"00-{'0' * 32}-{CLIENT_SPAN}-01", f"00-{TRACE_ID}-xyz-01",
                f"ff-{TRACE_ID}-{CLIENT_SPAN}-01", f"00-{TRACE_ID[:-1]}-{CLIENT_SPAN}-01"):
        assert parse(bad) is None, bad
    context = parse(f"00-{TRACE_ID}-{CLIENT_SPAN}-01")
    assert (f"{context.trace_id:032x}", f"{context.span_id:016x}", context.is_remote) == (TRACE_ID, CLIENT_SPAN, True)
