"""`GET /metrics` scraped while a workload runs, parsed with prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import json

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import playground_module
from tests.runtime.test_python_sdk import greeter_functions

FLOW = """---
kind: baton.workflows.v1/workflow
spec:
  id: example/flow
  definition:
    StartAt: Done
    States:
      Done: {Type: Pass, End: true}
"""


async def scrape(app) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of `/metrics`, by (sample name, sorted labels)."""
    async with app.session.get(f"{app.admin}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def person(name: str) -> tuple[tuple[str, str], ...]:
    return (("function_type", name),)


async def test_counters_move_as_the_workload_says(function_server, start_app):
    app = await start_app(playground_module(await function_server(greeter_functions())) + FLOW)
    names = [f"p{i}" for i in range(10)]

    async def workload() -> None:
        for round_ in range(3):
            await asyncio.gather(*(
                app.send(f"example/person/{n}", json.dumps({"name": n})) for n in names
            ))
            if round_ == 0:
                first_round.set()

    first_round = asyncio.Event()
    running = asyncio.create_task(workload())
    await first_round.wait()
    during = await scrape(app)  # while the other rounds are being sent and applied
    await running
    await app.runtime.until_idle(10)
    # Refused ingress requests, by reason.
    assert await app.send("other/kind/x", "{}") == 404
    assert await app.send("example/person/bad", "{}", "application/vnd.nonsense") == 415
    assert await app.send("example/flow/e1", "{}", "application/vnd.example/Json") == 202
    await app.runtime.until_idle(10)
    for _ in range(30):
        assert await app.take("greetings", wait=5) is not None
    after = await scrape(app)

    ingress = (("ingress", "io.statefun.playground/ingress"), ("outcome", "accepted"))
    assert 10 <= during[("baton_ingress_requests_total", ingress)] <= 30
    assert after[("baton_ingress_requests_total", ingress)] == 31
    for outcome in ("no_endpoint", "unknown_content_type"):
        labels = (("ingress", "io.statefun.playground/ingress"), ("outcome", outcome))
        assert after[("baton_ingress_requests_total", labels)] == 1

    assert during[("baton_function_messages_in_total", person("example/person"))] <= 30
    assert after[("baton_function_messages_in_total", person("example/person"))] == 30
    assert after[("baton_function_messages_out_total", person("example/person"))] == 30
    assert after[("baton_function_messages_in_total", person("example/greeter"))] == 30
    assert after[("baton_function_egress_out_total", person("example/greeter"))] == 30
    batches = after[("baton_function_batches_total", person("example/person"))]
    assert 10 <= batches <= 30
    # Histograms: one observation per applied batch, sizes summing to the messages.
    size = person("example/person")
    assert after[("baton_function_batch_size_count", size)] == batches
    assert after[("baton_function_batch_size_sum", size)] == 30
    assert after[("baton_function_invocation_seconds_count", size)] == batches
    assert after[("baton_function_invocation_seconds_bucket", (*size, ("le", "+Inf")))] == batches
    assert after[("baton_function_backlog", size)] == 0
    assert after[("baton_queued_messages", ())] == 0
    assert after[("baton_egress_published_total", (("egress", "io.statefun.playground/egress"),))] == 30
    pending = (("egress", "io.statefun.playground/egress"), ("topic", "greetings"))
    assert after.get(("baton_egress_pending", pending), 0) == 0
    assert after[("baton_workflow_executions", (("status", "SUCCEEDED"), ("workflow", "example/flow")))] == 1
    assert after[("baton_workflow_executions", (("status", "RUNNING"), ("workflow", "example/flow")))] == 0


async def test_epoch_commits_are_counted_with_a_durable_store(tmp_path, function_server, start_app):
    from baton.runtime.sqlite_store import SqliteStore

    app = await start_app(
        playground_module(await function_server(greeter_functions())), store=SqliteStore(tmp_path)
    )
    for name in ("a", "b", "c"):
        assert await app.send(f"example/person/{name}", json.dumps({"name": name})) == 202
    await app.runtime.until_idle(10)
    assert await app.take("greetings", wait=5) is not None  # committed: readable
    metrics = await scrape(app)
    assert metrics[("baton_epoch_commits_total", ())] >= 1
    assert metrics[("baton_epoch_commit_seconds_count", ())] == metrics[("baton_epoch_commits_total", ())]
    # Every accepted message and state value was written in some epoch.
    assert metrics[("baton_epoch_changes_sum", ())] >= 3 + 3
    assert metrics[("baton_epoch_commit_failures_total", ())] == 0
    # The JSON view keeps its place at /metrics.json.
    assert (await app.admin_get("/metrics.json"))["functions"]["example/person"]["messages_in"] == 3
