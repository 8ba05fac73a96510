"""A counter function written with the official SDK, in a process of its own.

`--server baton` (the default) serves it with `serve_functions`, baton's lean server, as
`baton serve` does; `--server aiohttp` with `web.run_app(function_app(...))`, a plain aiohttp
handler around the same SDK call. Both answer POST /statefun on 127.0.0.1:`--port` until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web
from statefun import IntType, StatefulFunctions, ValueSpec

from baton.cli.heap import settle_heap
from baton.serve import function_app
from baton.serve.http import serve_functions, stop_signalled
from bench.processes import use_uvloop

functions = StatefulFunctions()


@functions.bind("bench/counter", specs=[ValueSpec("count", IntType)])
def counter(context, message):
    """Count messages per id."""
    context.storage.count = (context.storage.count or 0) + 1


async def serve_baton(port: int) -> None:
    """`baton serve`'s way: serve_functions until SIGTERM/SIGINT."""
    server, _ = await serve_functions(functions, "127.0.0.1", port)
    settle_heap()  # as `baton serve` does once it serves
    try:
        await stop_signalled()
    finally:
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=["baton", "aiohttp"], default="baton",
                        help="baton's lean server (serve_functions, as `baton serve`) or a plain "
                             "aiohttp app (function_app)")
    args = parser.parse_args()
    use_uvloop()
    if args.server == "baton":
        asyncio.run(serve_baton(args.port))
    else:
        web.run_app(function_app(functions), host="127.0.0.1", port=args.port, access_log=None,
                    print=None)


if __name__ == "__main__":
    main()
