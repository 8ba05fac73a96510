"""A deployed-style Lambda handler module: SDK functions plus `handler = lambda_handler(...)`."""

from __future__ import annotations

import asyncio

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.serve import lambda_handler

functions = StatefulFunctions()


@functions.bind("test/counter", specs=[ValueSpec("count", IntType)])
async def counter(context, message):
    """Adds the int argument to its `count` state."""
    await asyncio.sleep(0)  # a real await: the batch runs on an event loop
    context.storage.count = (context.storage.count or 0) + message.as_int()


@functions.bind("test/failing")
def failing(context, message):
    raise ValueError(f"boom for {context.address.id}")


handler = lambda_handler(functions)
