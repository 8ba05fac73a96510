"""Plain Lambda handlers (as AWS calls them) for `baton lambda local` tests."""

from __future__ import annotations

import os
import time
from pathlib import Path


def echo(event, context):
    print(f"echo got {event}")
    return {
        "event": event,
        "pid": os.getpid(),
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory_mb": context.memory_limit_in_mb,
        "client_context": context.client_context.custom if context.client_context else None,
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "cwd": os.getcwd(),
        "region": os.environ.get("AWS_REGION"),
    }


def raising(event, context):
    raise KeyError(f"no such thing: {event.get('thing')}")


def crash(event, context):
    """Kills its own runtime process when asked to."""
    if event.get("crash"):
        os._exit(3)
    return {"pid": os.getpid()}


def sleepy(event, context):
    """Outlives any short timeout when asked to."""
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"pid": os.getpid()}


def rendezvous(event, context):
    """Returns once `event["expect"]` invocations are running at the same time (or fails)."""
    directory = Path(event["dir"])
    (directory / context.aws_request_id).touch()
    deadline = time.monotonic() + 20
    while len(list(directory.iterdir())) < event["expect"]:
        if time.monotonic() > deadline:
            raise TimeoutError("the other invocation never ran concurrently")
        time.sleep(0.01)
    return {"pid": os.getpid()}


def touch(event, context):
    """Creates `event["path"]` (to observe asynchronous invocations)."""
    Path(event["path"]).write_text(context.aws_request_id)


def big(event, context):
    """A result larger than Lambda allows for a synchronous response (6 MB)."""
    return {"blob": "x" * event["size"]}
