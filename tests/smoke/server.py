"""Serve the smoke interpreter in its own process: `python -m tests.smoke.server --port N`.

The endpoint is `http://<host>:<port>/statefun`. Prints `listening on <url>` once ready, so a
parent process can wait for that line (useful with `--port 0`).
"""

from __future__ import annotations

import argparse
import asyncio

from baton.serve.http import serve_functions, stop_signalled

from .interpreter import smoke_functions


async def serve(host: str, port: int) -> None:
    server, url = await serve_functions(smoke_functions(), host, port)
    print(f"listening on {url}", flush=True)
    try:
        await stop_signalled()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
