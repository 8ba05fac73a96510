"""The StateFun forks' Kafka ingress keys: invalidRecordHandling and forwardHeaders."""

from __future__ import annotations

import pytest

from baton.module import ModuleError, load_module_text
from baton.module.specs import InvalidRecordHandling, KafkaIngressSpec


def _ingress(extra: str, topic_extra: str = "") -> KafkaIngressSpec:
    module = load_module_text(f"""
kind: io.statefun.kafka.v1/ingress
spec:
  id: example/in
  address: kafka:9092
  consumerGroupId: g
  topics:
    - topic: names
      valueType: example/Name
      targets: [example/person]
{topic_extra}
{extra}
""", "module.yaml")
    ingress = module.ingresses[0]
    assert isinstance(ingress, KafkaIngressSpec)
    return ingress


def test_defaults_forward_to_dead_letters_and_drop_headers():
    ingress = _ingress("")
    assert ingress.invalid_records is None and ingress.forward_headers is None  # not set
    assert InvalidRecordHandling() == InvalidRecordHandling("forward", "warn")  # what baton does then
    assert ingress.topics[0].invalid_records is None


@pytest.mark.parametrize("text, expected", [
    ("invalidRecordHandling: skip", InvalidRecordHandling("skip", "warn")),
    ("invalidRecordHandling: {type: skip, logLevel: DEBUG}", InvalidRecordHandling("skip", "debug")),
    ("invalidRecordHandling: {type: fail}", InvalidRecordHandling("fail", "error")),
    ("invalidRecordHandling: {type: forward}", InvalidRecordHandling("forward", "warn")),
])
def test_ingress_level_handling(text, expected):
    assert _ingress("  " + text).invalid_records == expected


def test_per_topic_overrides():
    with pytest.warns(Warning, match="baton drops Kafka record headers"):
        ingress = _ingress("  forwardHeaders: false",
                           "      invalidRecordHandling: {type: fail}\n      forwardHeaders: true")
    assert ingress.topics[0].invalid_records == InvalidRecordHandling("fail", "error")
    assert ingress.topics[0].forward_headers is True


@pytest.mark.parametrize("text, message", [
    ("invalidRecordHandling: {type: drop}", "Invalid invalidRecordHandling type: drop; valid values are [forward, skip, fail]"),
    ("invalidRecordHandling: {type: fail, logLevel: warn}", "logLevel is only applicable"),
    ("invalidRecordHandling: {type: skip, logLevel: loud}", "Invalid invalidRecordHandling logLevel: loud"),
    ("forwardHeaders: yes please", "forwardHeaders must be true or false"),
])
def test_bad_values_say_what_and_where(text, message):
    with pytest.raises(ModuleError) as error:
        _ingress("  " + text)
    assert message in str(error.value)
    assert "module.yaml:" in str(error.value)


def test_an_unknown_key_is_warned_about_with_a_suggestion():
    with pytest.warns(Warning, match="Did you mean `logLevel`"):
        _ingress("  invalidRecordHandling: {type: skip, level: warn}")
