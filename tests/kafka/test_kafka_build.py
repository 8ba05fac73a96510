"""`baton build` keeps Kafka documents as they are, for a real StateFun cluster."""

from __future__ import annotations

from click.testing import CliRunner
from ruamel.yaml import YAML

from baton.cli import cli
from functions.kafka_demo import kafka_module_text


def test_build_keeps_kafka_documents_unchanged(tmp_path):
    source = tmp_path / "module.yaml"
    source.write_text(kafka_module_text("kafka:9092"))
    result = CliRunner().invoke(cli, ["build", str(source), "--out", str(tmp_path / "build"),
                                      "--interpreter-url", "http://workflows:8000/statefun"])
    assert result.exit_code == 0, result.output

    def kafka_documents(text: str) -> list:
        return [d for d in YAML(typ="safe").load_all(text) if "kafka" in d["kind"]]

    kept = kafka_documents((tmp_path / "build" / "module" / "module.yaml").read_text())
    assert kept == kafka_documents(source.read_text())
    assert {d["kind"] for d in kept} == {"io.statefun.kafka.v1/ingress", "io.statefun.kafka.v1/egress"}


def test_build_for_a_cluster_notes_the_forks_keys():
    from baton.deploy.statefun.topology import ClusterOptions, plan
    from baton.module import load_module_text

    def notes(extra: str) -> list[str]:
        module = load_module_text(f"""
kind: io.statefun.endpoints.v2/http
spec: {{functions: example/*, urlPathTemplate: "http://127.0.0.1:8000/statefun"}}
---
kind: io.statefun.kafka.v1/ingress
spec:
  id: example/in
  address: kafka:9092
  consumerGroupId: g
  topics: [{{topic: t, valueType: example/V, targets: [example/f]{extra}}}]
""", "module.yaml")
        options = ClusterOptions(serve={"": "app:functions"})
        return [n for n in plan(module, options, has_workflows=False).notes if "kzmlabs" in n]

    assert notes("") == []
    assert notes(", invalidRecordHandling: skip") == [
        "module.yaml:5: invalidRecordHandling / forwardHeaders are honoured by the kzmlabs fork; "
        "apache/flink-statefun:3.3.0 ignores them and fails the job on a record without a key."
    ]
