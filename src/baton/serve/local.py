"""SDK functions served beside the runtime (`baton run --serve`, a project's tests).

`LocalFunctions` is a runtime extension (`baton.runtime.extension.RuntimeExtension`): it serves
a `statefun.StatefulFunctions` on a free loopback port, as `baton serve` would, and points the
runtime at it for every function type it registers that the module's endpoints serve. The
module's endpoint keeps its transport settings (call timeout, ...); only the URL changes, so
module.yaml stays exactly what a real StateFun cluster or `baton serve` deployment uses.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Sequence

from aiohttp import web
from statefun import StatefulFunctions

from baton.http_server import HttpServer
from baton.module.specs import HttpEndpointSpec, ModuleSpec, TargetFunctions, TypeName
from baton.runtime.api import Listener, RuntimeAPI
from baton.serve.http import serve_functions
from baton.serve.targets import function_types

log = logging.getLogger(__name__)


class LocalFunctions:
    """Serves SDK functions on a loopback port for the lifetime of a runtime."""

    kinds: frozenset[TypeName] = frozenset()

    def __init__(self, functions: StatefulFunctions, *, name: str = "functions",
                 host: str = "127.0.0.1") -> None:
        self.name = name
        self.types = [TypeName.parse(t) for t in function_types(functions)]
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((host, 0))  # bound now, so endpoints can name the URL before start
        self.url = f"http://{host}:{self._socket.getsockname()[1]}/statefun"
        self._functions = functions
        self._server: HttpServer | None = None

    def attach(self, module: ModuleSpec) -> ModuleSpec:
        """The module plus an exact endpoint (at our URL) per registered type it serves."""
        added = []
        for function_type in self.types:
            existing = module.endpoint_for(function_type)
            if not isinstance(existing, HttpEndpointSpec):
                log.warning(
                    "%s registers %s, but no HTTP endpoint in %s serves it: add one (e.g. "
                    "`functions: %s/*`) or messages to it are refused",
                    self.name, function_type, ", ".join(module.files) or "the module",
                    function_type.namespace,
                )
                continue
            added.append(dataclasses.replace(
                existing, functions=TargetFunctions(function_type.namespace, function_type.name),
                url_path_template=self.url,
            ))
        return dataclasses.replace(module, endpoints=(*added, *module.endpoints))

    async def start(self) -> None:
        self._server, _ = await serve_functions(self._functions, sock=self._socket)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
        self._socket.close()

    def listeners(self) -> Sequence[Listener]:
        return [Listener(f"functions {self.name}", self.url)]

    def admin_routes(self, runtime: RuntimeAPI) -> Sequence[web.RouteDef]:
        return []
