"""The runtime's listening components: playground ingresses and egresses, and the admin API.

They reach the runtime through its public API only, so this module (not `runtime.py`) is where
the admin API and the playground servers meet the runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from prometheus_client.registry import Collector

from baton.http_server import HttpServer
from baton.module.specs import PlaygroundEgressSpec, PlaygroundIngressSpec
from baton.runtime.admin import admin_app
from baton.runtime.admin_guard import AdminSurface
from baton.runtime.api import Listener, RuntimeAPI
from baton.runtime.connectors.factory import CONNECTED_KINDS
from baton.runtime.console import console_routes
from baton.runtime.observability.prometheus import prometheus_routes
from baton.runtime.playground import MAX_BODY, egress_app, ingress_handler

log = logging.getLogger(__name__)


class Servers:
    """Opens every listening component of a runtime, and closes them: the playground servers
    on `host`, the admin API on its own surface (loopback unless a token guards it)."""

    def __init__(self, host: str, admin: AdminSurface) -> None:
        self._host = host
        self._admin = admin
        self._runners: list[web.AppRunner] = []
        self._ingresses: list[HttpServer] = []  # the hot path: baton's lean server

    async def open(
        self,
        runtime: RuntimeAPI,
        admin_port: int | None,
        admin_routes: Sequence[web.RouteDef] = (),
        collectors: Sequence[Collector] = (),
    ) -> list[Listener]:
        """Serve the module's playground ingresses and egresses and the admin API (with the
        Prometheus `/metrics` and the extensions' routes and collectors)."""
        listeners = []
        for ingress in runtime.module.ingresses:
            if isinstance(ingress, PlaygroundIngressSpec):
                server = HttpServer(ingress_handler(runtime, str(ingress.id)), max_body=MAX_BODY)
                host, port = await server.start(self._host, ingress.port)
                self._ingresses.append(server)
                listeners.append(Listener(f"ingress {ingress.id}", _url(host, port)))
            elif ingress.kind not in CONNECTED_KINDS:
                log.warning(
                    "ingress %s (%s) is not connected: baton does not consume it yet; "
                    "send messages through the admin API (POST /send/...) instead",
                    ingress.id, ingress.kind,
                )
        for egress in runtime.module.egresses:
            if isinstance(egress, PlaygroundEgressSpec):
                listeners.append(
                    await self._serve(f"egress {egress.id}", egress_app(egress, runtime), egress.port)
                )
            elif egress.kind not in CONNECTED_KINDS:
                log.warning(
                    "egress %s (%s) is not connected: its records stay in the durable outbox, "
                    "readable through the admin API (GET /egress/...)",
                    egress.id, egress.kind,
                )
        if admin_port is not None:
            routes = [*prometheus_routes(runtime, collectors), *console_routes(runtime), *admin_routes]
            app = admin_app(runtime, routes)
            app.middlewares.append(self._admin.middleware())
            listeners.append(await self._serve("admin API", app, admin_port, self._admin.host))
        return listeners

    async def _serve(
        self, component: str, app: web.Application, port: int, host: str | None = None
    ) -> Listener:
        # Cancel a handler whose client went away (e.g. a long-polling egress reader).
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, host or self._host, port, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        sockname = runner.addresses[-1]
        return Listener(component, _url(sockname[0], sockname[1]))

    async def close(self) -> None:
        """Close every listener (newest first): no new input from here on."""
        for server in reversed(self._ingresses):
            await server.close()
        self._ingresses.clear()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()


def _url(host: str, port: int) -> str:
    return f"http://{host}:{port}"
