"""HeartbeatSeconds: a long task that sends TaskHeartbeat messages is not timed out."""

from __future__ import annotations

import json
from datetime import timedelta

from statefun import StatefulFunctions, StringType, ValueSpec, make_json_type, message_builder

from baton.workflows.messages import TASK_HEARTBEAT, TASK_REQUEST, TASK_RESULT, task_result
from tests.conftest import playground_module

TICK = make_json_type("slow/Tick")

WORKFLOW = """---
kind: baton.workflows.v1/workflow
spec:
  id: slow/flow
  resultEgress: {egress: io.statefun.playground/egress, topic: out}
  definition:
    StartAt: Work
    States:
      Work: {Type: Task, Resource: slow/worker, HeartbeatSeconds: 1, End: true}
"""


def slow_worker() -> StatefulFunctions:
    """Works for 5 ticks of 400 ms (2 s in all), replying from the last one."""
    functions = StatefulFunctions()

    @functions.bind("slow/worker", specs=[ValueSpec("job", StringType)])
    async def worker(context, message):
        if message.is_type(TASK_REQUEST):
            request = message.as_type(TASK_REQUEST)
            caller = context.caller
            job = {"task_id": request["task_id"], "caller": [caller.typename, caller.id],
                   "beat": request["input"]["beat"], "ticks": 0}
        else:
            job = json.loads(context.storage.job)
            job["ticks"] += 1
        typename, caller_id = job["caller"]
        if job["ticks"] == 5:
            del context.storage.job
            context.send(message_builder(target_typename=typename, target_id=caller_id,
                                         value=task_result(job["task_id"], {"ticks": 5}),
                                         value_type=TASK_RESULT))
            return
        if job["beat"]:
            context.send(message_builder(target_typename=typename, target_id=caller_id,
                                         value={"task_id": job["task_id"]}, value_type=TASK_HEARTBEAT))
        context.storage.job = json.dumps(job)
        context.send_after(timedelta(milliseconds=400), message_builder(
            target_typename="slow/worker", target_id=context.address.id, value={}, value_type=TICK))

    return functions


async def test_heartbeats_keep_a_long_task_alive_and_silence_times_it_out(function_server, start_app):
    app = await start_app(playground_module(await function_server(slow_worker()), "slow") + WORKFLOW)
    await app.send("slow/flow/beating", json.dumps({"beat": True}), "application/vnd.slow/Start")
    result = json.loads(await app.take("out"))
    assert (result["status"], result["output"]) == ("SUCCEEDED", {"ticks": 5})

    await app.send("slow/flow/silent", json.dumps({"beat": False}), "application/vnd.slow/Start")
    result = json.loads(await app.take("out"))
    assert (result["execution"], result["status"], result["error"]) == (
        "silent", "FAILED", "States.HeartbeatTimeout")
