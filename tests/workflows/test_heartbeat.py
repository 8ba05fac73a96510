"""HeartbeatSeconds: a long task that sends TaskHeartbeat messages is not timed out."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from statefun import StatefulFunctions, StringType, ValueSpec, make_json_type, message_builder

from baton.module import load_module_text
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


async def test_heartbeats_keep_a_long_task_alive_and_silence_times_it_out(baton_harness):
    module = load_module_text(playground_module("http://in-process.invalid/statefun", "slow") + WORKFLOW)
    h = await baton_harness(module, slow_worker(), auto=True)
    beating = await h.result(await h.start_workflow("slow/flow", "beating", {"beat": True}))
    assert (beating.status, beating.output) == ("SUCCEEDED", {"ticks": 5})
    assert beating.end_time - beating.start_time == pytest.approx(2.0)  # 5 ticks of 400 ms

    silent = await h.result(await h.start_workflow("slow/flow", "silent", {"beat": False}))
    assert (silent.status, silent.error) == ("FAILED", "States.HeartbeatTimeout")
    assert silent.end_time - silent.start_time == pytest.approx(1.0)  # HeartbeatSeconds: 1
    results = {r.json()["execution"]: r.json()["status"] for r in await h.egress("out")}
    assert results == {"beating": "SUCCEEDED", "silent": "FAILED"}
