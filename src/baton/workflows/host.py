"""Hosting workflows inside `baton run`: the interpreter and the Lambda bridge, served in-process.

On a real StateFun cluster the same functions are served by `baton serve` (see `baton build`);
inside baton they run on a loopback aiohttp server the runtime calls like any other endpoint.
`WorkflowHost` is a runtime extension (`baton.runtime.extension.RuntimeExtension`): the
composition root builds it with `workflow_host(module)` and passes it to the `Runtime`.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from statefun import StatefulFunctions

from baton.http_server import HttpServer
from baton.module.kinds import LAMBDA_BRIDGE_TYPE, WORKFLOW_KIND
from baton.module.specs import (
    AsyncTransportSpec,
    HttpEndpointSpec,
    ModuleSpec,
    TargetFunctions,
)
from baton.runtime.address import Address
from baton.runtime.api import Listener, RuntimeAPI
from baton.serve.http import serve_functions
from baton.workflows.console import workflow_console_routes
from baton.workflows.execution import ABORTED, FAILED, RUNNING, SUCCEEDED, TIMED_OUT
from baton.workflows.function import workflow_functions
from baton.workflows.lambda_bridge import LambdaBridge, bind_lambda_bridge
from baton.workflows.module_kind import WorkflowSpec, check_result_egresses, workflows_of
from baton.workflows.stored_execution import read_execution

IN_PROCESS_URL = "http://in-process.invalid/statefun"  # never called: see WorkflowHost

# A Lambda may run for 15 minutes; the bridge's calls must be allowed to wait that long.
_BRIDGE_CALL = timedelta(minutes=16)
# The interpreter answers in milliseconds (tasks are messages, not calls it waits for).
_INTERPRETER_CALL = timedelta(minutes=2)


def workflow_host(
    module: ModuleSpec, *, host: str = "127.0.0.1", lambda_endpoint_url: str | None = None,
    interpreter_call: timedelta = _INTERPRETER_CALL,
    serve: bool = True, now: Callable[[], float] = time.time, seed: str | None = None,
) -> WorkflowHost:
    """The host for a module's workflow documents (checked first; errors name file and line).

    A module without workflows gets a host that serves nothing but still answers the admin
    API's `/workflows` (with no workflows), so `baton workflows list` works on any runtime.
    `serve=False`, `now` and `seed`: see `WorkflowHost`.
    """
    workflows = workflows_of(module)
    check_result_egresses(module, workflows)
    return WorkflowHost(
        workflows, lambda_endpoint_url=lambda_endpoint_url, host=host,
        interpreter_call=interpreter_call, serve=serve, now=now, seed=seed,
    )


class WorkflowHost:
    """Serves the module's workflows (and the Lambda bridge) on a loopback port.

    With `serve=False` it opens no port: its endpoints carry the placeholder `IN_PROCESS_URL`
    and the composition root routes them to `functions` in-process (`baton.testing` does, with
    `TransportFactory.use`). `now` and `seed` go to the interpreter (`WorkflowFunction`).
    """

    kinds = frozenset({WORKFLOW_KIND})

    def __init__(
        self, workflows: list[WorkflowSpec], *, lambda_endpoint_url: str | None = None,
        host: str = "127.0.0.1", interpreter_call: timedelta = _INTERPRETER_CALL,
        serve: bool = True, now: Callable[[], float] = time.time, seed: str | None = None,
    ) -> None:
        self.workflows = workflows
        self._interpreter_call = interpreter_call
        self.endpoints: list[HttpEndpointSpec] = []  # those `attach` added
        self._server: HttpServer | None = None
        self._socket: socket.socket | None = None
        self.url: str | None = None
        self.functions: StatefulFunctions | None = None
        if not workflows:
            return  # nothing to serve: no port, no interpreter
        self.functions = workflow_functions(workflows, now=now, seed=seed)
        bind_lambda_bridge(self.functions, LambdaBridge(endpoint_url=lambda_endpoint_url))
        if not serve:
            self.url = IN_PROCESS_URL
            return
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))  # bound now, so endpoints can name the URL before start
        self.url = f"http://{host}:{self._socket.getsockname()[1]}/statefun"

    def attach(self, module: ModuleSpec) -> ModuleSpec:
        """The module plus exact endpoints for the workflow types and the bridge it lacks."""
        if self.url is None:
            return module
        added = []
        for typename, call in [
            *((w.id, self._interpreter_call) for w in self.workflows),
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
        self.endpoints = added
        return dataclasses.replace(module, endpoints=(*added, *module.endpoints))

    async def start(self) -> None:
        if self._socket is None or self.functions is None:
            return
        self._server, _ = await serve_functions(self.functions, sock=self._socket)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
        if self._socket is not None:
            self._socket.close()

    def listeners(self) -> Sequence[Listener]:
        if self._socket is None or self.url is None:
            return []
        return [Listener("workflow interpreter (+ Lambda bridge)", self.url)]

    def admin_routes(self, runtime: RuntimeAPI) -> Sequence[web.RouteDef]:
        """`GET /workflows` (every execution of every workflow) and `GET /workflows/<address>`."""

        async def listing(_: web.Request) -> web.Response:
            return web.json_response([
                {"workflow": str(spec.id),
                 "executions": [_summary(runtime, address) for address in runtime.addresses(spec.id)]}
                for spec in self.workflows
            ])

        async def describe(request: web.Request) -> web.Response:
            info = request.match_info
            target = Address(info["namespace"], info["type"], info["id"])
            stored = read_execution(runtime, target)
            if stored is None:
                return web.Response(status=404, text=f"no workflow execution at {target}")
            return web.json_response({"address": str(target), **stored.to_json()})

        return [
            web.get("/workflows", listing),
            web.get("/workflows/{namespace}/{type}/{id}", describe),
            *workflow_console_routes(self.workflows, runtime),
        ]


    def collectors(self, runtime: RuntimeAPI) -> Sequence[Collector]:
        """Workflow executions by status, for `/metrics` (a `MetricsSource`)."""
        return [_ExecutionsCollector(self.workflows, runtime)]


class _ExecutionsCollector(Collector):
    """`baton_workflow_executions{workflow, status}`, counted from the stored executions when
    scraped (a read of every execution: scrape less often when there are very many)."""

    def __init__(self, workflows: list[WorkflowSpec], runtime: RuntimeAPI) -> None:
        self._workflows = workflows
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "baton_workflow_executions", "Workflow executions by status.", labels=["workflow", "status"]
        )
        for spec in self._workflows:
            counts = dict.fromkeys(_STATUSES, 0)
            for address in self._runtime.addresses(spec.id):
                stored = read_execution(self._runtime, address)
                if stored is not None:
                    status = stored.execution.status
                    counts[status] = counts.get(status, 0) + 1
            for status, count in counts.items():
                family.add_metric([str(spec.id), status], count)
        yield family


_STATUSES = (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED)


def _summary(runtime: RuntimeAPI, address: Address) -> dict[str, Any]:
    """One line of the listing: the execution id, its status, when it started and stopped."""
    stored = read_execution(runtime, address)
    execution = stored.execution if stored is not None else None
    return {
        "id": address.id,
        "status": execution.status if execution else None,
        "start_time": execution.start_time if execution else None,
        "stop_time": execution.end_time if execution else None,
    }
