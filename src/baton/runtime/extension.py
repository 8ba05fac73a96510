"""The runtime's extension point: something hosted beside the module's functions.

An extension (e.g. the workflow interpreter, `baton.workflows.host.WorkflowHost`) adds the
endpoints it serves to the module, runs while the runtime runs, and may answer admin API routes
of its own. The composition root (`baton run`, `baton workflows run`, a test) builds the
extensions and hands them to `Runtime(..., extensions=[...])`; the runtime knows none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aiohttp import web
from prometheus_client.registry import Collector

from baton.module.specs import ModuleSpec, TypeName
from baton.runtime.api import Listener, RuntimeAPI


class RuntimeExtension(Protocol):
    @property
    def kinds(self) -> frozenset[TypeName]:
        """The module document kinds it serves (others are reported as not served)."""
        ...

    def attach(self, module: ModuleSpec) -> ModuleSpec:
        """The module plus the endpoints of what this extension serves."""
        ...

    async def start(self) -> None:
        """Start serving (before the runtime resumes stored mailboxes)."""
        ...

    async def stop(self) -> None:
        """Stop serving (after the runtime's last invocation)."""
        ...

    def listeners(self) -> Sequence[Listener]:
        """What it listens on, once started (shown by `baton run`)."""
        ...

    def admin_routes(self, runtime: RuntimeAPI) -> Sequence[web.RouteDef]:
        """Routes it adds to the admin API, answered through the runtime's public API."""
        ...


@runtime_checkable
class MetricsSource(Protocol):
    """An extension that also exports Prometheus metrics (read when `/metrics` is scraped)."""

    def collectors(self, runtime: RuntimeAPI) -> Sequence[Collector]: ...
