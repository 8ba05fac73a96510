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
