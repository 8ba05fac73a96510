"""What keeps the admin port safe from browsers and from the network: an aiohttp middleware.

Every app served on the admin port (the admin API, and whatever else is mounted there) gets it:
- a bearer token (`--admin-token`), compared in constant time, when one is set; an admin API
  bound beyond loopback without a token is refused at start (`AdminSurface`);
- without a token, the `Host` header must name loopback (`localhost`, `127.0.0.1`, `[::1]`), so a
  page served from another name that resolves to 127.0.0.1 (DNS rebinding) is turned away;
- a request that changes state (POST, PUT, PATCH, DELETE) must not come from another origin
  (`Origin`, when a browser sends one, must be this host) and must carry a JSON or typed body
  (`application/json`, `application/vnd.*`) or none: the content types an HTML form or a
  "simple" cross-site request can send (`text/plain`, form encodings) are refused.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a browser sends cross-site without asking first (the CORS-safelisted content types).
_FORM_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
_OPEN_PATHS = frozenset({"/health"})  # answered without a token (load balancer probes)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class UnsafeAdminBind(ValueError):
    """The admin API would be reachable beyond this machine without a token."""


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, as in a Host header without its port) is loopback."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    """The host of a `Host` header, without its port (`[::1]:8081` → `::1`)."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


@dataclass(frozen=True, slots=True)
class AdminSurface:
    """Where the admin API listens and the token it requires (None: loopback only)."""

    host: str = "127.0.0.1"
    token: str | None = None

    def __post_init__(self) -> None:
        if self.token is not None and not self.token:
            raise UnsafeAdminBind("the admin token must not be empty")
        if self.token is None and not is_loopback(self.host):
            raise UnsafeAdminBind(
                f"the admin API would listen on {self.host} without a token: anyone who can "
                "reach it could read state and send messages. Set --admin-token (or "
                "BATON_ADMIN_TOKEN), or keep --admin-host on loopback (127.0.0.1)"
            )

    def middleware(self) -> Middleware:
        """The aiohttp middleware that enforces this surface's rules (see the module doc)."""
        token = self.token.encode() if self.token is not None else None

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            refusal = _check(request, token)
            if refusal is not None:
                return refusal
            return await handler(request)

        return guard


def _check(request: web.Request, token: bytes | None) -> web.Response | None:
    host = request.headers.get("Host", "")
    if token is not None:
        if request.path not in _OPEN_PATHS:
            given = request.headers.get("Authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token):
                return web.Response(
                    status=401, headers={"WWW-Authenticate": 'Bearer realm="baton admin"'},
                    text="the admin API needs `Authorization: Bearer <token>` (the --admin-token)",
                )
    elif not is_loopback(_host_name(host)):
        return web.Response(
            status=403,
            text=f"Host {host!r} is not loopback: the admin API without a token answers only "
            "requests addressed to localhost / 127.0.0.1 (set --admin-token to serve other names)",
        )
    if request.method not in _UNSAFE_METHODS:
        return None
    origin = request.headers.get("Origin")
    if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
        return web.Response(
            status=403,
            text=f"cross-origin request refused (Origin {origin!r}, Host {host!r}): the admin "
            "API changes state only for requests from its own origin or from non-browser clients",
        )
    content_type = request.headers.get("Content-Type")
    if content_type is not None and content_type.split(";", 1)[0].strip().lower() in _FORM_TYPES:
        return web.Response(
            status=415,
            text=f"Content-Type {content_type!r} is refused for requests that change state: send "
            "application/json or a typed body (application/vnd.<namespace>/<name>)",
        )
    return None
