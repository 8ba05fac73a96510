"""The Kinesis crash test's function, in its own process: `python -m tests.kinesis.crash_functions`.

`crash/counter` adds each message's amount to the address's total and emits, to the Kinesis
egress `crash/out` stream `totals`, the record `<id>:<n>:<total>` (n = messages so far): a state
effect applied twice or lost shows as a wrong or missing record.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from statefun import IntType, StatefulFunctions, ValueSpec, kinesis_egress_message

from baton.serve import function_app

functions = StatefulFunctions()


@functions.bind("crash/counter", specs=[ValueSpec("total", IntType), ValueSpec("n", IntType)])
async def counter(context, message):
    context.storage.total = (context.storage.total or 0) + int(message.raw_value())
    context.storage.n = (context.storage.n or 0) + 1
    context.send_egress(kinesis_egress_message(
        typename="crash/out", stream="totals", partition_key=context.address.id,
        value=f"{context.address.id}:{context.storage.n}:{context.storage.total}",
    ))


async def serve() -> None:
    runner = web.AppRunner(function_app(functions), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    print(f"listening on http://{host}:{port}/statefun", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve())
