"""Kafka client settings: `properties` pass through, named fields win, unknown names fail clearly."""

from __future__ import annotations

import pytest

from baton.module import load_module_text
from baton.runtime import Runtime
from baton.runtime.api import ConnectorError
from baton.runtime.connectors.kafka_publisher import producer_config
from baton.runtime.connectors.kafka_source import consumer_config

MODULE = """
kind: io.statefun.endpoints.v2/http
spec: {functions: example/*, urlPathTemplate: "http://127.0.0.1:9/"}
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: example/in
  address: 127.0.0.1:1
  consumerGroupId: named
  topics: [{topic: t, valueType: example/V, targets: [example/f]}]
  properties:
    - group.id: from-properties
    - fetch.min.bytes: 1000
    - queued.max.messages.kbytes: 2048
    - INGRESS_EXTRA
---
kind: io.statefun.kafka.v1/egress
spec:
  id: example/out
  address: 127.0.0.1:1
  deliverySemantic: {type: exactly-once, transactionTimeout: 2min}
  properties:
    - transactional.id: my-app
    - EGRESS_EXTRA
"""


def _module(ingress_extra: str = "client.id: x", egress_extra: str = "client.id: y"):
    text = MODULE.replace("INGRESS_EXTRA", ingress_extra).replace("EGRESS_EXTRA", egress_extra)
    return load_module_text(text, "module.yaml")


def test_properties_pass_through_and_named_fields_win():
    module = _module()
    consumer = consumer_config(module.ingresses[0])
    assert consumer["group.id"] == "named" and consumer["bootstrap.servers"] == "127.0.0.1:1"
    assert consumer["fetch.min.bytes"] == "1000"
    assert consumer["queued.max.messages.kbytes"] == "2048"  # the user's prefetch bound wins
    assert consumer["enable.auto.commit"] == "false"  # offsets are baton's, in the epoch
    producer = producer_config(module.egresses[0])
    assert producer["transactional.id"] == "my-app"  # stable across restarts, as the user set it
    assert producer["transaction.timeout.ms"] == "120000"


@pytest.mark.parametrize("ingress, egress, where", [
    ("no.such.setting: 1", "client.id: y", "Kafka ingress example/in"),
    ("client.id: x", "no.such.setting: 1", "Kafka egress example/out"),
])
async def test_an_unknown_client_setting_fails_at_start_and_says_where(ingress, egress, where):
    runtime = Runtime(_module(ingress, egress), admin_port=None)
    with pytest.raises(ConnectorError) as error:
        await runtime.start()
    await runtime.stop()
    assert where in str(error.value) and "no.such.setting" in str(error.value)
