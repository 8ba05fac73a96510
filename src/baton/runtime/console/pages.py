"""The runtime's console pages, answered through `RuntimeAPI` only.

- `/` function types: messages, batches, failures, backlog and (updated live by the page's
  script from `/metrics.json`) rates;
- `/console/addresses` address search by function type and id prefix, paged by the store;
- `/console/state/{ns}/{type}/{id}` an address's state, decoded, with expiry, backlog and
  whether it is parked (with the resume and dead-letter actions);
- `/console/parked` and `/console/dead-letters`, with their actions.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from baton.module.typename import TypeName
from baton.runtime.address import Address
from baton.runtime.api import RuntimeAPI
from baton.runtime.console.rendering import asset, console_link, environment, path, render_page
from baton.runtime.typed_values import describe

PAGE_SIZE = 50


def _function_types(runtime: RuntimeAPI) -> list[TypeName]:
    """Types seen so far, plus those an endpoint names exactly (before their first message)."""
    seen = {function_type for function_type, _ in runtime.metrics.items()}
    for endpoint in runtime.module.endpoints:
        target = endpoint.functions
        if target.name is not None:
            seen.add(TypeName(target.namespace, target.name))
    return sorted(seen, key=str)


def _value_view(typename: str, value: bytes | None) -> dict[str, Any]:
    """What the console shows of a typed value: its kind and a JSON-able value."""
    described = describe(typename, value)
    if "json" in described:
        return {"kind": "json", "value": described["json"]}
    if "base64" in described:
        return {"kind": "bytes", "value": described["base64"]}
    return {"kind": "value", "value": described["value"]}


def console_routes(runtime: RuntimeAPI) -> list[web.RouteDef]:
    env = environment()

    def address_of(request: web.Request) -> Address:
        info = request.match_info
        return Address(info["namespace"], info["type"], info["id"])

    async def overview(request: web.Request) -> web.Response:
        status = runtime.status()
        parked_by_type: dict[TypeName, int] = {}
        for address in runtime.parked():
            parked_by_type[address.function_type] = parked_by_type.get(address.function_type, 0) + 1
        rows = []
        for function_type in _function_types(runtime):
            metrics = runtime.metrics.of(function_type)
            rows.append({
                "type": str(function_type),
                "metrics": metrics,
                "latency_ms": metrics.latency.sum * 1000 / metrics.batches if metrics.batches else None,
                "backlog": status.backlog.get(function_type, 0),
                "parked": parked_by_type.get(function_type, 0),
            })
        uptime = runtime.clock.now() - runtime.started_at
        return render_page(
            request, env, "overview.html", title="Function types", rows=rows, totals=status,
            uptime=uptime, listeners=runtime.listeners,
        )

    async def addresses(request: web.Request) -> web.Response:
        query = request.query
        type_text = query.get("type", "").strip()
        prefix = query.get("prefix", "")
        after = query.get("after") or None
        error, page, function_type = None, [], None
        if type_text:
            try:
                function_type = TypeName.parse(type_text)
            except ValueError:
                function_type = None
            if function_type is None or not function_type.namespace or not function_type.name:
                error = f"{type_text!r} is not a function type: write <namespace>/<name>"
                function_type = None
            else:
                page = runtime.address_page(function_type, prefix, after, PAGE_SIZE)
        return render_page(
            request, env, "addresses.html", title="Addresses", types=_function_types(runtime),
            type_text=type_text, prefix=prefix, after=after, error=error,
            page=[(a, runtime.backlog(a), a in runtime.parked()) for a in page],
            next_after=page[-1].id if len(page) == PAGE_SIZE else None,
        )

    async def find(request: web.Request) -> web.Response:
        text = request.query.get("address", "").strip()
        try:
            address = Address.parse(text)
        except ValueError:
            return render_page(
                request, env, "addresses.html", title="Addresses", types=_function_types(runtime),
                type_text="", prefix="", after=None, page=[], next_after=None, status=400,
                error=f"{text!r} is not an address: write <namespace>/<type>/<id>, e.g. orders/order/o-1",
            )
        raise web.HTTPFound(f"/console/state/{path(address)}")

    async def state(request: web.Request) -> web.Response:
        address = address_of(request)
        values = [
            {"name": name, "typename": v.typename, "expires_at": v.expires_at,
             **_value_view(v.typename, v.value)}
            for name, v in sorted(runtime.state(address).items())
        ]
        parked = runtime.parked().get(address)
        return render_page(
            request, env, "state.html", title=str(address), address=address, values=values,
            backlog=runtime.backlog(address), parked=parked,
        )

    async def parked(request: web.Request) -> web.Response:
        rows = [
            {"address": address, "reason": info.reason, "since": info.since,
             "backlog": runtime.backlog(address)}
            for address, info in sorted(runtime.parked().items(), key=lambda item: str(item[0]))
        ]
        return render_page(request, env, "parked.html", title="Parked addresses", rows=rows)

    async def dead_letters(request: web.Request) -> web.Response:
        rows = [
            {"index": index, "message": letter.message, "reason": letter.reason, "at": letter.at,
             **_value_view(letter.message.typename, letter.message.value)}
            for index, letter in enumerate(runtime.dead_letters())
        ]
        return render_page(request, env, "dead_letters.html", title="Dead letters", rows=rows)

    return [
        web.get("/", overview, name=console_link("Function types")),
        web.get("/console/addresses", addresses, name=console_link("Addresses")),
        web.get("/console/parked", parked, name=console_link("Parked")),
        web.get("/console/dead-letters", dead_letters, name=console_link("Dead letters")),
        web.get("/console/find", find),
        web.get("/console/state/{namespace}/{type}/{id}", state),
        web.get("/console/static/{name}", asset),
    ]
