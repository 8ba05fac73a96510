"""The playground ingress (on baton's lean `HttpServer`: the hot path) and egress (aiohttp).

The contract is the playground image's (statefun-reference §1.11), with real status codes:
2xx when accepted, 4xx with a plain-text reason otherwise, 404 for an empty topic. Only the
methods the contract needs are served, so a link or an `<img>` on a web page cannot deliver a
message (ingress: PUT and POST) and nothing but a GET takes a record (HEAD does not).
"""

from __future__ import annotations

import logging

from aiohttp import web

from baton.http_server import Handler, Request, Response
from baton.module.kinds import PLAYGROUND_EGRESS_ID, PLAYGROUND_INGRESS_ID, WORKFLOW_START_TYPENAME
from baton.module.specs import PlaygroundEgressSpec
from baton.module.typename import TypeName
from baton.runtime.address import Address, InvalidAddress
from baton.runtime.admission import Refused
from baton.runtime.api import RuntimeAPI
from baton.runtime.egress import playground_payload
from baton.runtime.messages import Message
from baton.runtime.rules import RuleRejected

DEFAULT_TYPENAME = "io.statefun.types/string"
INGRESS_METHODS = ("PUT", "POST")
_VND = "application/vnd."
_UNTYPED_JSON = frozenset({"application/json", "text/json"})
MAX_BODY = 32 * 1024 * 1024

log = logging.getLogger(__name__)


class BadRequest(Exception):
    """An ingress request that cannot become a message; the text says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def typename_from_content_type(values: list[str]) -> str:
    """The first `application/vnd.<ns>/<name>` content type gives the typename; else string.

    JSON without a type (`application/json`, `*/*+json`) is refused with 415 rather than taken
    as `io.statefun.types/string` (as the playground image would): a function that reads its
    own JSON type would fail on it much later, where the sender no longer sees why.
    """
    for value in values:
        if value.startswith(_VND):
            typename = value[len(_VND) :].split(";", 1)[0].strip()
            try:
                parsed = TypeName.parse(typename)
            except ValueError:
                parsed = None
            if parsed is None or not parsed.namespace or not parsed.name:
                raise BadRequest(
                    415,
                    f"Content-Type {value!r} does not name a type: use "
                    "'application/vnd.<namespace>/<name>', e.g. application/vnd.example/GreetRequest",
                )
            return typename
    for value in values:
        media = value.split(";", 1)[0].strip().lower()
        if media in _UNTYPED_JSON or media.endswith("+json"):
            raise BadRequest(
                415,
                f"Content-Type {value!r} names no message type. StateFun messages carry a "
                "typename: send 'Content-Type: application/vnd.<namespace>/<Type>' (the JSON "
                "type your function reads, e.g. make_json_type(\"example/GreetRequest\") for "
                "application/vnd.example/GreetRequest; a workflow takes "
                f"application/vnd.{WORKFLOW_START_TYPENAME}), or text/plain for a "
                f"{DEFAULT_TYPENAME}",
            )
    return DEFAULT_TYPENAME


def message_for(
    runtime: RuntimeAPI, address: Address, content_types: list[str], trace: str | None, body: bytes
) -> Message:
    """An ingress message (no caller) for `address`, after checking it has an endpoint.

    `trace` is the caller's traceparent header, carried to the function (observability.tracing).
    """
    if not address.valid:
        raise BadRequest(400, f"{InvalidAddress(address)}; use /<namespace>/<type>/<id>")
    if not runtime.serves(address.function_type):
        raise BadRequest(
            404, f"no endpoint serves function type {address.function_type}; check module.yaml"
        )
    return Message(address, None, typename_from_content_type(content_types), body, trace=trace)


_ACCEPTED = Response(202)


async def accept(
    runtime: RuntimeAPI, message: Message, key: str | None, ingress: str | None = None
) -> Response:
    """Offer an ingress message: 202 once durable, 200 for a repeated Idempotency-Key `key`,
    422 for a message an ERROR rule rejects, 429/503 when its target or the runtime is full."""
    try:
        accepted = await runtime.offer(message, idempotency_key=key, ingress=ingress)
    except Refused as refused:
        return Response.text(
            refused.http_status, str(refused), [("Retry-After", str(refused.retry_after_s))]
        )
    except RuleRejected as rejected:  # the rule's name also in a header, for clients
        return Response.text(422, str(rejected), [("Baton-Rule", rejected.rule)])
    if not accepted:
        return Response.text(200, "already accepted (same Idempotency-Key)")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("ingress: %s <- %s, %d bytes", message.target, message.typename, len(message.value or b""))
    return _ACCEPTED


def client_connected(request: web.Request) -> bool:
    """Whether the client of an aiohttp request is still there to receive the answer."""
    transport = request.transport
    return transport is not None and not transport.is_closing()


def ingress_handler(runtime: RuntimeAPI, ingress_id: str = str(PLAYGROUND_INGRESS_ID)) -> Handler:
    """`PUT|POST /<namespace>/<type>/<id>` with the body as the message value, for `HttpServer`."""

    async def counted(request: Request) -> Response:
        response = await answer(request)
        runtime.metrics.count_ingress(ingress_id, response.status)
        return response

    async def answer(request: Request) -> Response:
        segments = request.path_segments()
        if len(segments) != 3 or not all(segments):
            return Response.text(
                400,
                f"Invalid URL {request.path!r}. Please specify '/namespace/function_type/function_id'",
            )
        if request.method not in INGRESS_METHODS:
            return Response.text(
                405, f"{request.method} does not deliver messages: use PUT (or POST)",
                [("Allow", ", ".join(INGRESS_METHODS))],
            )
        try:
            message = message_for(
                runtime, Address(*segments), request.header_values("content-type"),
                request.header("traceparent"), request.body,
            )
        except BadRequest as error:
            return Response.text(error.status, str(error))
        return await accept(runtime, message, request.header("idempotency-key"), ingress_id)

    return counted


def undeclared_topic(spec: PlaygroundEgressSpec, topic: str) -> str | None:
    """Why a topic cannot be read (400 from the playground egress and the admin API alike)."""
    if topic in spec.topics:
        return None
    declared = ", ".join(spec.topics) or "none"
    return (f"unknown topic {topic!r} of {spec.id}; declared topics: {declared} "
            f"(topics are listed under `topics:` of the egress in module.yaml)")


def egress_app(spec: PlaygroundEgressSpec, runtime: RuntimeAPI) -> web.Application:
    """`GET /<topic>` takes one record; `?wait=SECONDS` (a baton addition) waits for one."""
    egress_id = str(PLAYGROUND_EGRESS_ID)

    async def take(request: web.Request) -> web.Response:
        topic = request.match_info["topic"]
        undeclared = undeclared_topic(spec, topic)
        if undeclared:
            return web.Response(status=400, text=undeclared)
        try:
            wait = float(request.query.get("wait", "0"))
        except ValueError:
            return web.Response(status=400, text="wait must be a number of seconds")
        record = await runtime.take_egress(
            egress_id, topic, min(wait, 60.0), still_wanted=lambda: client_connected(request)
        )
        if record is None:
            return web.Response(status=404)
        log.debug("egress: %s topic %s taken", egress_id, topic)
        return web.Response(body=playground_payload(record), content_type="text/plain")

    app = web.Application()
    app.router.add_get("/{topic}", take, allow_head=False)  # a HEAD must not take a record
    return app
