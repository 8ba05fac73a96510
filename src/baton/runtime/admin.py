"""The admin HTTP API: health, the loaded module, counters, parked addresses, state, send."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from baton.runtime.address import Address
from baton.runtime.messages import Message
from baton.runtime.playground import (
    MAX_BODY,
    BadRequest,
    client_connected,
    message_from_request,
)
from baton.runtime.typed_values import describe

if TYPE_CHECKING:
    from baton.runtime.runtime import Runtime


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


def admin_app(runtime: Runtime) -> web.Application:
    """Build the admin application for a running runtime."""
    store, dispatcher = runtime.store, runtime.dispatcher

    def address(request: web.Request) -> Address:
        info = request.match_info
        return Address(info["namespace"], info["type"], info["id"])

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "uptime_s": round(time.time() - runtime.started_at, 3)})

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
        backlog: dict[str, int] = {}
        for addr in store.busy_addresses():
            key = str(addr.function_type)
            backlog[key] = backlog.get(key, 0) + store.backlog(addr)
        functions = {
            str(ft): {**m.as_dict(), "backlog": backlog.get(str(ft), 0)}
            for ft, m in runtime.metrics.items()
        }
        return web.json_response(
            {
                "functions": functions,
                "queued": dispatcher.queued,
                "inflight_batches": dispatcher.inflight,
                "delayed_pending": len(dispatcher.timers),
                "parked": len(store.parked()),
            }
        )

    async def parked(_: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "address": str(addr),
                    "reason": info.reason,
                    "since": info.since,
                    "backlog": store.backlog(addr),
                }
                for addr, info in store.parked().items()
            ]
        )

    async def resume(request: web.Request) -> web.Response:
        target = address(request)
        if not dispatcher.resume(target):
            return web.Response(status=404, text=f"{target} is not parked")
        return web.json_response({"resumed": str(target)})

    async def dead_letter(request: web.Request) -> web.Response:
        target = address(request)
        message = dispatcher.dead_letter_head(target)
        if message is None:
            return web.Response(status=404, text=f"{target} is not parked or has no messages")
        return web.json_response({"dead_lettered": _message_json(message), "resumed": str(target)})

    async def dead_letters(_: web.Request) -> web.Response:
        return web.json_response(
            [
                {**_message_json(d.message), "reason": d.reason, "at": d.at}
                for d in store.dead_letters()
            ]
        )

    async def state(request: web.Request) -> web.Response:
        target = address(request)
        now = time.time()
        values = {
            name: {**describe(v.typename, v.value), "expires_at": v.expires_at}
            for name, v in store.states(target).items()
            if not v.expired(now)
        }
        parked_info = store.parked().get(target)
        return web.json_response(
            {
                "address": str(target),
                "state": values,
                "backlog": store.backlog(target),
                "parked": parked_info.reason if parked_info else None,
            }
        )

    async def send(request: web.Request) -> web.Response:
        try:
            message = await message_from_request(request, dispatcher, address(request))
        except BadRequest as error:
            return web.Response(status=error.status, text=str(error))
        await runtime.ingest(message)
        return web.Response(status=202)

    async def take_egress(request: web.Request) -> web.Response:
        info = request.match_info
        egress_id, topic = f"{info['namespace']}/{info['type']}", info["topic"]
        if egress_id not in runtime.egress.egresses:
            return web.Response(status=404, text=f"no egress {egress_id!r} is declared")
        try:
            wait = min(float(request.query.get("wait", "0")), 60.0)
        except ValueError:
            return web.Response(status=400, text="wait must be a number of seconds")
        record = await runtime.egress.take_waiting(
            egress_id, topic, wait, still_wanted=lambda: client_connected(request)
        )
        if record is None:
            return web.Response(status=404)
        return web.json_response(
            {"egress": record.egress, "topic": record.topic, **describe(record.typename, record.value)}
        )

    def execution(address: Address) -> dict[str, Any] | None:
        stored = store.states(address).get("execution")
        if stored is None:
            return None
        return json.loads(stored.value)

    async def workflows(_: web.Request) -> web.Response:
        host = runtime.workflows
        listing = []
        for spec in host.workflows if host is not None else []:
            executions = []
            for addr in store.addresses_with_state(spec.id.namespace, spec.id.name):
                data = execution(addr) or {}
                progress = data.get("execution") or {}
                executions.append(
                    {"id": addr.id, **{k: progress.get(k) for k in ("status", "start_time", "stop_time")}}
                )
            listing.append({"workflow": str(spec.id), "executions": executions})
        return web.json_response(listing)

    async def describe_execution(request: web.Request) -> web.Response:
        target = address(request)
        data = execution(target)
        if data is None:
            return web.Response(status=404, text=f"no workflow execution at {target}")
        return web.json_response({"address": str(target), **data})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/workflows", workflows)
    app.router.add_get("/workflows/{namespace}/{type}/{id}", describe_execution)
    app.router.add_get("/egress/{namespace}/{type}/{topic}", take_egress)
    app.router.add_get("/health", health)
    app.router.add_get("/module", module)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/parked", parked)
    app.router.add_post("/parked/{namespace}/{type}/{id}/resume", resume)
    app.router.add_post("/parked/{namespace}/{type}/{id}/dead-letter", dead_letter)
    app.router.add_get("/dead-letters", dead_letters)
    app.router.add_get("/state/{namespace}/{type}/{id}", state)
    app.router.add_post("/send/{namespace}/{type}/{id}", send)
    return app
