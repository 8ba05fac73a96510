"""The admin HTTP API: health, the loaded module, counters, parked addresses, state, send.

It answers through the runtime's public API (`RuntimeAPI`) only; extensions add routes of their
own (e.g. the workflow host's `/workflows`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from aiohttp import web

from baton.module.specs import PlaygroundEgressSpec, TypeName
from baton.runtime.address import Address
from baton.runtime.api import PublishedEgress, RuntimeAPI, UnknownEgress
from baton.runtime.messages import Message
from baton.runtime.playground import (
    MAX_BODY,
    BadRequest,
    accept,
    client_connected,
    message_for,
    undeclared_topic,
)
from baton.runtime.typed_values import describe


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "target": str(message.target),
        "caller": str(message.caller) if message.caller else None,
        "argument": describe(message.typename, message.value),
    }


def admin_app(runtime: RuntimeAPI, routes: Iterable[web.RouteDef] = ()) -> web.Application:
    """Build the admin application for a running runtime, plus the extensions' `routes`."""

    def address(request: web.Request) -> Address:
        info = request.match_info
        return Address(info["namespace"], info["type"], info["id"])

    async def health(_: web.Request) -> web.Response:
        uptime = runtime.clock.now() - runtime.started_at
        return web.json_response({"status": "ok", "uptime_s": round(uptime, 3)})

    async def module(_: web.Request) -> web.Response:
        spec = runtime.module
        return web.json_response(
            {
                "files": list(spec.files),
                "endpoints": _jsonable(spec.endpoints),
                "ingresses": _jsonable(spec.ingresses),
                "egresses": _jsonable(spec.egresses),
                "functions": sorted(str(e.functions) for e in spec.endpoints),
            }
        )

    async def metrics(_: web.Request) -> web.Response:
        status = runtime.status()
        functions = {
            str(ft): {**m.as_dict(), "backlog": status.backlog.get(ft, 0)}
            for ft, m in runtime.metrics.items()
        }
        return web.json_response(
            {
                "functions": functions,
                "queued": status.queued,
                "inflight_batches": status.inflight,
                "delayed_pending": status.delayed,
                "parked": status.parked,
                "rules": {name: m.as_dict() for name, m in runtime.metrics.rules.items()},
            }
        )

    async def addresses(request: web.Request) -> web.Response:
        info, query = request.match_info, request.query
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            return web.Response(status=400, text="limit must be a whole number from 1 to 1000")
        function_type = TypeName(info["namespace"], info["type"])
        page = runtime.address_page(function_type, query.get("prefix", ""), query.get("after"), limit)
        return web.json_response({
            "function_type": str(function_type),
            "addresses": [str(a) for a in page],
            # The id to pass as `after` for the next page (None: this was the last).
            "next": page[-1].id if len(page) == limit else None,
        })

    async def parked(_: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "address": str(addr),
                    "reason": info.reason,
                    "since": info.since,
                    "backlog": runtime.backlog(addr),
                }
                for addr, info in runtime.parked().items()
            ]
        )

    async def resume(request: web.Request) -> web.Response:
        target = address(request)
        if not runtime.resume(target):
            return web.Response(status=404, text=f"{target} is not parked")
        return web.json_response({"resumed": str(target)})

    async def dead_letter(request: web.Request) -> web.Response:
        target = address(request)
        message = runtime.dead_letter(target)
        if message is None:
            return web.Response(status=404, text=f"{target} is not parked or has no messages")
        return web.json_response({"dead_lettered": _message_json(message), "resumed": str(target)})

    async def dead_letters(_: web.Request) -> web.Response:
        return web.json_response(
            [
                {"index": i, **_message_json(d.message), "reason": d.reason, "at": d.at}
                for i, d in enumerate(runtime.dead_letters())
            ]
        )

    async def resend_dead_letter(request: web.Request) -> web.Response:
        """Deliver a dead letter again, as it was (caller included); once per letter."""
        letters = runtime.dead_letters()
        index = int(request.match_info["index"])
        if index >= len(letters):
            return web.Response(status=404, text=f"no dead letter {index} (there are {len(letters)})")
        letter = letters[index]
        if not runtime.serves(letter.message.target.function_type):
            return web.Response(status=404, text=f"no endpoint serves "
                                f"{letter.message.target.function_type}; check module.yaml")
        # The ingress idempotency key makes a second re-send of the same letter a no-op.
        key = f"baton.dead-letter/{index}/{letter.at!r}"
        again = await runtime.ingest(letter.message, idempotency_key=key)
        if not again:
            return web.Response(status=409, text=f"dead letter {index} was re-sent already")
        return web.json_response({"resent": _message_json(letter.message)}, status=202)

    async def state(request: web.Request) -> web.Response:
        target = address(request)
        values = {
            name: {**describe(v.typename, v.value), "expires_at": v.expires_at}
            for name, v in runtime.state(target).items()
        }
        parked_info = runtime.parked().get(target)
        return web.json_response(
            {
                "address": str(target),
                "state": values,
                "backlog": runtime.backlog(target),
                "parked": parked_info.reason if parked_info else None,
            }
        )

    async def send(request: web.Request) -> web.Response:
        headers = request.headers
        try:
            message = message_for(
                runtime, address(request), headers.getall("Content-Type", []),
                headers.get("traceparent"), await request.read(),
            )
        except BadRequest as error:
            return web.Response(status=error.status, text=str(error))
        answer = await accept(runtime, message, headers.get("Idempotency-Key"))
        extra = dict(answer.headers)
        if answer.content_type is not None:
            extra["Content-Type"] = answer.content_type
        return web.Response(status=answer.status, body=answer.body, headers=extra)

    async def take_egress(request: web.Request) -> web.Response:
        info = request.match_info
        egress_id, topic = f"{info['namespace']}/{info['type']}", info["topic"]
        undeclared = web.Response(status=404, text=f"no egress {egress_id!r} is declared")
        spec = runtime.module.egress(TypeName(info["namespace"], info["type"]))
        if spec is None:
            return undeclared
        if isinstance(spec, PlaygroundEgressSpec) and (unknown := undeclared_topic(spec, topic)):
            return web.Response(status=400, text=unknown)
        try:
            wait = min(float(request.query.get("wait", "0")), 60.0)
        except ValueError:
            return web.Response(status=400, text="wait must be a number of seconds")
        try:
            record = await runtime.take_egress(
                egress_id, topic, wait, still_wanted=lambda: client_connected(request)
            )
        except UnknownEgress:
            return undeclared
        except PublishedEgress:
            return web.Response(
                status=409,
                text=f"egress {egress_id!r} publishes its records (to Kafka or Kinesis); read them there",
            )
        if record is None:
            return web.Response(status=404)
        return web.json_response(
            {"egress": record.egress, "topic": record.topic, **describe(record.typename, record.value)}
        )

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/egress/{namespace}/{type}/{topic}", take_egress, allow_head=False)
    app.router.add_get("/health", health)
    app.router.add_get("/module", module)
    app.router.add_get("/metrics.json", metrics)  # `/metrics` is Prometheus' (observability)
    app.router.add_get("/addresses/{namespace}/{type}", addresses)
    app.router.add_get("/parked", parked)
    app.router.add_post("/parked/{namespace}/{type}/{id}/resume", resume)
    app.router.add_post("/parked/{namespace}/{type}/{id}/dead-letter", dead_letter)
    app.router.add_get("/dead-letters", dead_letters)
    app.router.add_post("/dead-letters/{index:\\d+}/resend", resend_dead_letter)
    app.router.add_get("/state/{namespace}/{type}/{id}", state)
    app.router.add_post("/send/{namespace}/{type}/{id}", send)
    app.router.add_routes(routes)
    return app
