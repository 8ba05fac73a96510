"""Background tasks of the runtime and its connectors: how they are stopped."""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_tasks(*tasks: asyncio.Task[Any] | None, ignore_failures: bool = False) -> None:
    """Cancel the tasks and return once every one has ended (None stands for one never started).

    A task that had failed before it was cancelled raises its error here, after all have
    ended, unless `ignore_failures`. Only the tasks' cancellation is swallowed: if the
    caller itself is cancelled while waiting, that still reaches it.
    """
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    ended = await asyncio.gather(*running, return_exceptions=True)
    if not ignore_failures:
        for outcome in ended:
            if isinstance(outcome, Exception):  # CancelledError is not one: that is the stop
                raise outcome
