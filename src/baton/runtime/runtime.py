"""The embedded runtime: a StateFun-compatible cluster in one asyncio process."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from aiohttp import web

from baton.module.kinds import WORKFLOW_KIND
from baton.module.specs import (
    ModuleSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
)
from baton.runtime.admin import admin_app
from baton.runtime.dispatcher import Dispatcher
from baton.runtime.egress import EgressRouter
from baton.runtime.invoker import Invoker
from baton.runtime.messages import Message
from baton.runtime.metrics import Metrics
from baton.runtime.playground import egress_app, ingress_app
from baton.runtime.state_registry import StateRegistry
from baton.runtime.store import MemoryStore, Store
from baton.runtime.transport import HttpTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listener:
    """A component listening on a socket."""

    component: str
    url: str


def _workflow_host(module: ModuleSpec, host: str, lambda_endpoint_url: str | None):
    """A host for the module's workflow documents, if it has any (imported only then)."""
    if not any(doc.kind == WORKFLOW_KIND for doc in module.extensions):
        return None
    from baton.workflows.host import WorkflowHost
    from baton.workflows.module_kind import check_result_egresses, workflows_of

    workflows = workflows_of(module)
    check_result_egresses(module, workflows)
    return WorkflowHost(workflows, lambda_endpoint_url=lambda_endpoint_url, host=host)


class Runtime:
    """Loads nothing itself: give it a ModuleSpec and a Store, then `start()`."""

    def __init__(
        self,
        module: ModuleSpec,
        store: Store | None = None,
        *,
        host: str = "127.0.0.1",
        admin_port: int | None = 8081,
        max_queued: int = 100_000,
        max_inflight: int = 32_768,
        lambda_endpoint_url: str | None = None,
    ) -> None:
        self.workflows = _workflow_host(module, host, lambda_endpoint_url)
        if self.workflows is not None:
            module = self.workflows.attach(module)
        self.module = module
        self.store = store if store is not None else MemoryStore()
        self.host = host
        self.admin_port = admin_port
        self.metrics = Metrics()
        self.registry = StateRegistry()
        self.transport = HttpTransport()
        self.egress = EgressRouter(module, self.store)
        self.invoker = Invoker(self.store, self.registry, self.transport, self.metrics)
        self.dispatcher = Dispatcher(
            module, self.store, self.invoker, self.registry, self.egress, self.metrics,
            max_queued=max_queued, max_inflight=max_inflight,
        )
        self.listeners: list[Listener] = []
        self.started_at = time.time()
        self._runners: list[web.AppRunner] = []

    async def start(self) -> list[Listener]:
        """Start timers, resume stored mailboxes and open every listening component."""
        self.started_at = time.time()
        if self.workflows is not None:
            await self.workflows.start()
            self.listeners.append(Listener("workflow interpreter (+ Lambda bridge)", self.workflows.url))
        await self.store.start()
        self.dispatcher.timers.start()
        self.dispatcher.resume_mailboxes()
        for ingress in self.module.ingresses:
            if isinstance(ingress, PlaygroundIngressSpec):
                await self._serve(f"ingress {ingress.id}", ingress_app(self.dispatcher), ingress.port)
            else:
                log.warning(
                    "ingress %s (%s) is not connected: baton does not consume it yet; "
                    "send messages through the admin API (POST /send/...) instead",
                    ingress.id, ingress.kind,
                )
        for egress in self.module.egresses:
            if isinstance(egress, PlaygroundEgressSpec):
                await self._serve(f"egress {egress.id}", egress_app(egress, self.egress), egress.port)
            else:
                log.warning(
                    "egress %s (%s) is not connected: its records stay in the durable outbox, "
                    "readable through the admin API (GET /egress/...)",
                    egress.id, egress.kind,
                )
        if self.admin_port is not None:
            await self._serve("admin API", admin_app(self), self.admin_port)
        return self.listeners

    async def _serve(self, component: str, app: web.Application, port: int) -> str:
        # Cancel a handler whose client went away (e.g. a long-polling egress reader).
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, port, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        sockname = runner.addresses[-1]
        url = f"http://{sockname[0]}:{sockname[1]}"
        self.listeners.append(Listener(component, url))
        return url

    def url_of(self, component_prefix: str) -> str:
        """The URL of the first listener whose name starts with the prefix (e.g. 'admin')."""
        return next(l.url for l in self.listeners if l.component.startswith(component_prefix))

    async def ingest(self, *messages: Message, idempotency_key: str | None = None) -> bool:
        """Accept messages as an ingress would: waits while saturated, returns once durable."""
        return await self.dispatcher.ingest(*messages, idempotency_key=idempotency_key)

    async def stop(self) -> None:
        """Close listeners first (no new input), then stop batches, transport and store."""
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        await self.dispatcher.stop()
        await self.invoker.close()
        if self.workflows is not None:
            await self.workflows.stop()
        await self.store.commit()
        self.store.close()

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
