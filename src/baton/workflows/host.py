"""Hosting workflows inside `baton run`: the interpreter and the Lambda bridge, served in-process.

On a real StateFun cluster the same functions are served by `baton serve` (see `baton build`);
inside baton they run on a loopback aiohttp server the runtime calls like any other endpoint.
"""

from __future__ import annotations

import dataclasses
import socket
from datetime import timedelta

from aiohttp import web

from baton.module.kinds import LAMBDA_BRIDGE_TYPE
from baton.module.specs import (
    AsyncTransportSpec,
    HttpEndpointSpec,
    ModuleSpec,
    TargetFunctions,
)
from baton.serve.http import function_app
from baton.workflows.function import workflow_functions
from baton.workflows.lambda_bridge import LambdaBridge, bind_lambda_bridge
from baton.workflows.module_kind import WorkflowSpec

# A Lambda may run for 15 minutes; the bridge's calls must be allowed to wait that long.
_BRIDGE_CALL = timedelta(minutes=16)


class WorkflowHost:
    """Serves the module's workflows (and the Lambda bridge) on a loopback port."""

    def __init__(
        self, workflows: list[WorkflowSpec], *, lambda_endpoint_url: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.workflows = workflows
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))  # bound now, so endpoints can name the URL before start
        self.url = f"http://{host}:{self._socket.getsockname()[1]}/statefun"
        functions = workflow_functions(workflows)
        bind_lambda_bridge(functions, LambdaBridge(endpoint_url=lambda_endpoint_url))
        self._app = function_app(functions)
        self._runner: web.AppRunner | None = None

    def attach(self, module: ModuleSpec) -> ModuleSpec:
        """The module plus exact endpoints for the workflow types and the bridge it lacks."""
        added = []
        for typename, call in [
            *((w.id, timedelta(minutes=2)) for w in self.workflows),
            (LAMBDA_BRIDGE_TYPE, _BRIDGE_CALL),
        ]:
            existing = module.endpoint_for(typename)
            if existing is not None and not existing.functions.is_wildcard:
                continue  # the user serves it elsewhere (e.g. with `baton serve`)
            added.append(
                HttpEndpointSpec(
                    TargetFunctions(typename.namespace, typename.name), self.url,
                    transport=AsyncTransportSpec(call=call),
                )
            )
        return dataclasses.replace(module, endpoints=(*added, *module.endpoints))

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._socket.close()
