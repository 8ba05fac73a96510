"""Serve the smoke interpreter in its own process: `python -m tests.smoke.server --port N`.

The endpoint is `http://<host>:<port>/statefun`. Prints `listening on <url>` once ready, so a
parent process can wait for that line (useful with `--port 0`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web

from baton.serve import function_app

from .interpreter import smoke_functions


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(function_app(smoke_functions()), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    print(f"listening on http://{bound_host}:{bound_port}/statefun", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
