"""The crash test's function, in its own process: `python -m tests.kafka.crash_functions --port 0`.

`crash/counter` adds each message's amount to the address's total and emits, to the Kafka egress
`crash/out` topic `totals`, the record `<id>:<n>:<total>` (n = messages so far): a state effect
applied twice or lost shows as a wrong or repeated record.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web
from statefun import IntType, StatefulFunctions, ValueSpec, kafka_egress_message

from baton.serve import function_app

functions = StatefulFunctions()


@functions.bind("crash/counter", specs=[ValueSpec("total", IntType), ValueSpec("n", IntType)])
async def counter(context, message):
    context.storage.total = (context.storage.total or 0) + int(message.raw_value())
    context.storage.n = (context.storage.n or 0) + 1
    context.send_egress(kafka_egress_message(
        typename="crash/out", topic="totals", key=context.address.id,
        value=f"{context.address.id}:{context.storage.n}:{context.storage.total}",
    ))


async def serve(port: int) -> None:
    runner = web.AppRunner(function_app(functions), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    host, bound = runner.addresses[0][:2]
    print(f"listening on http://{host}:{bound}/statefun", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))
