"""Data-quality rules see Kafka records: an ERROR rule's refusal is an invalid record."""

from __future__ import annotations

import json

from tests.conftest import eventually
from tests.durability.source_support import recording_functions, started_runtime
from tests.kafka.conftest import counter_module, create_topics, produce

RULES = """---
kind: baton.rules.v1/rules
spec:
  messageType: example/Order
  rules:
    - name: positive
      expr: message.quantity > 0
      onFailure: ERROR
"""


async def test_a_record_an_error_rule_refuses_is_dead_lettered_and_the_rest_flows(
    tmp_path, broker, function_server
):
    seen: list[tuple[str, str, str]] = []
    url = await function_server(recording_functions(seen))
    create_topics(broker.address, "names")
    produce(broker.address, "names", [("a", json.dumps({"quantity": q}).encode()) for q in (1, 0, 2)])
    runtime = await started_runtime(counter_module(
        url, broker.address, "example", group="rules", topic="names", value_type="example/Order") + RULES)
    try:
        await eventually(lambda: runtime.positions("example/in").get("names/0") == "3", 20)
        await eventually(lambda: len(seen) == 2, 20)
        letters = runtime.dead_letters()
    finally:
        await runtime.stop()
    assert [json.loads(v)["quantity"] for (_, _, v) in seen] == [1, 2]
    assert len(letters) == 1 and "rejected by rule 'positive'" in letters[0].reason
    assert "topic names partition 0 offset 1" in letters[0].reason
