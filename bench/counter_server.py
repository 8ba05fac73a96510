"""A counter function written with the official SDK, served by aiohttp (a separate process)."""

from __future__ import annotations

import argparse

from aiohttp import web
from statefun import IntType, StatefulFunctions, ValueSpec

from baton.serve import function_app

functions = StatefulFunctions()


@functions.bind("bench/counter", specs=[ValueSpec("count", IntType)])
def counter(context, message):
    """Count messages per id."""
    context.storage.count = (context.storage.count or 0) + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    web.run_app(function_app(functions), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
