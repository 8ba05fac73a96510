"""The startup check of `baton run`: can every HTTP endpoint be reached? A warning, never a refusal.

A function server started after baton is fine (calls are retried within the call timeout), so
an unreachable endpoint is only reported: one line per endpoint, with where it is declared and
what to do, instead of messages parking a call-timeout later with nothing said at startup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from urllib.parse import urlsplit

from baton.module.specs import HttpEndpointSpec, LambdaUrlTransportSpec, ModuleSpec, TypeName

_CONNECT_TIMEOUT_S = 1.0


async def unreachable_endpoints(module: ModuleSpec, served: Collection[TypeName] = ()) -> list[str]:
    """One warning line per HTTP endpoint whose host and port accept no TCP connection.

    Endpoints whose function types baton serves itself (`served`, e.g. `baton run --serve`)
    are not checked: their calls go to baton's own server.
    """
    namespaces = {t.namespace for t in served}
    endpoints = [
        e for e in module.endpoints
        if isinstance(e, HttpEndpointSpec) and not isinstance(e.transport, LambdaUrlTransportSpec)
        and not (e.functions.is_wildcard and e.functions.namespace in namespaces)
        and TypeName(e.functions.namespace, e.functions.name or "") not in served
    ]
    results = await asyncio.gather(*(_problem(e) for e in endpoints))
    return [problem for problem in results if problem is not None]


async def _problem(endpoint: HttpEndpointSpec) -> str | None:
    # `{function.name}` may stand anywhere in the template; any name gives the same host.
    url = urlsplit(endpoint.url_path_template.replace("{function.name}", "f"))
    try:
        host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return None  # the loader reports malformed URLs
    if not host:
        return None
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), _CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        why = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        where = f" ({endpoint.source})" if endpoint.source else ""
        pattern = f"{endpoint.functions.namespace}/{endpoint.functions.name or '*'}"
        return (
            f"endpoint {pattern}{where}: {endpoint.url_path_template} is not reachable ({why}); "
            "start its function server (e.g. `baton serve MODULE:ATTR`), or messages to it "
            "park after the call timeout"
        )
    writer.close()
    return None
