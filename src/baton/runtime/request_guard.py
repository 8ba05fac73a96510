"""Checks that keep the admin port's state-changing requests out of a browser page's reach.

A page on another site can make a browser send simple requests to 127.0.0.1 (CSRF), and a
hostile DNS name can resolve to it (DNS rebinding). So every request must name an allowed
`Host` (a loopback name, or the interface the server is bound to), and a request that changes
state must not come from another origin. The web console's actions are `fetch` POSTs with a
JSON body and a custom header, which a foreign page cannot send without a CORS preflight that
this server never grants.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_ANY_INTERFACE = frozenset({"0.0.0.0", "::", ""})


def _hostname(host: str) -> str:
    return (urlsplit(f"//{host}").hostname or "").lower()


def request_guard(bound_host: str) -> Middleware:
    """An aiohttp middleware for a server bound to `bound_host`."""
    allowed = _LOOPBACK | {bound_host.lower().strip("[]")}
    any_host = bound_host in _ANY_INTERFACE

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if not any_host and _hostname(host) not in allowed:
            return web.Response(
                status=403,
                text=f"Host {host!r} is not this server's; use http://127.0.0.1:<admin port>/",
            )
        origin = request.headers.get("Origin")
        if request.method not in _SAFE_METHODS and origin is not None:
            origin_host = urlsplit(origin).netloc.lower()
            if origin == "null" or origin_host != host.lower():
                return web.Response(
                    status=403,
                    text=f"cross-origin {request.method} from {origin!r} refused: "
                    "change state from the console on this port, the CLI or curl",
                )
        return await handler(request)

    return guard
