"""The `baton.rules.v1/rules` document: compiled at load, every problem with file, line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from baton.module import load_module, load_module_text
from baton.module.render import render
from tests.module.inline import error_of, yaml

ROOT = Path(__file__).resolve().parents[2]

HEAD = """
kind: io.statefun.endpoints.v2/http
spec:
  functions: orders/*
  urlPathTemplate: http://localhost:8000/statefun
---
kind: io.statefun.playground.v1/egress
spec:
  port: 0
  topics: [rejected]
---
"""  # the rules document starts at line 11


def rules(body: str) -> str:
    return yaml(HEAD) + yaml(body)


@pytest.mark.parametrize(
    ("body", "line", "field", "fragments"),
    [
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - name: ok
                  expr: message.quantity > 0
                - name: broken
                  expr: message.quantity > && true
            """,
            17, "spec.rules[1].expr",
            ["does not compile", "line 1, column 20", "Syntax error", "message.quantity > && true"],
            id="syntax",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              messageType: type.googleapis.com/orders.OrderLine
              descriptors: [{pythonModule: proto.orders_pb2}]
              rules:
                - {name: typo, expr: message.quantty > 0}
            """,
            16, "spec.rules[0].expr", ["undefined field 'quantty'", "orders.OrderLine"],
            id="unknown-protobuf-field",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - {name: number, expr: 1 + 2}
            """,
            14, "spec.rules[0].expr", ["gives INT, not a bool"],
            id="not-a-condition",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              messageType: type.googleapis.com/orders.Nope
              rules:
                - {name: r, expr: "true"}
            """,
            13, "spec.messageType", ["no protobuf descriptor for 'orders.Nope'", "descriptors"],
            id="unregistered-protobuf-type",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              descriptors: [{pythonModule: proto.nope_pb2}]
              rules:
                - {name: r, expr: "true"}
            """,
            13, "spec.descriptors[0].pythonModule", ["cannot import 'proto.nope_pb2'"],
            id="missing-python-module",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - {name: r, expr: "true", onFailure: DROP}
            """,
            14, "spec.rules[0].onFailure", ["Invalid onFailure: DROP", "DLQ, ERROR, NONE"],
            id="on-failure",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - {name: r, type: JSONATA, expr: "true"}
            """,
            14, "spec.rules[0].type", ["Invalid rule type: JSONATA"],
            id="rule-type",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - name: r
                  expr: "true"
                  onFailure: DLQ
                  params: {dlq.egress: io.statefun.playground/egress, dlq.topic: nope}
            """,
            14, "params", ["dead-letter target", "one of its topics (rejected)", "'nope'"],
            id="undeclared-playground-topic",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - {name: r, expr: "true", onFailure: DLQ, params: {dlq.egress: example/kafka, dlq.topic: t}}
            """,
            14, "params", ["egress example/kafka is not declared", "io.statefun.playground/egress"],
            id="undeclared-egress",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - {name: r, expr: "true", onFailure: DLQ, params: {dlq.topic: rejected}}
            """,
            14, "spec.rules[0].params", ["`dlq.topic` needs `dlq.egress`"],
            id="topic-without-egress",
        ),
        pytest.param(
            """
            kind: baton.rules.v1/rules
            spec:
              rules:
                - {name: same, expr: "true"}
                - {name: same, expr: "false"}
            """,
            15, "name", ["rule name 'same' is also used at module.yaml:14", "unique"],
            id="duplicate-name",
        ),
    ],
)
def test_a_bad_rules_document_is_a_located_error(body, line, field, fragments):
    error = error_of(rules(body))
    assert (error.file, error.line, error.field) == ("module.yaml", line, field), str(error)
    for fragment in fragments:
        assert fragment in str(error), str(error)


def test_selectors_and_defaults():
    module = load_module_text(rules("""
        kind: baton.rules.v1/rules
        spec:
          ingress: io.statefun.kafka/orders
          topic: order-lines
          messageType: orders/OrderLine
          functionType: orders/*
          rules:
            - {name: a, expr: message.quantity > 0}
            - {name: off, expr: "false", disabled: true}
        """), "module.yaml")
    (rule_set,) = module.rules
    assert str(rule_set.ingress) == "io.statefun.kafka/orders"
    assert rule_set.topic == "order-lines"
    assert rule_set.message_types == ("orders/OrderLine",)
    assert str(rule_set.function_type) == "orders/*"
    assert [(r.name, r.on_failure, r.dlq_egress) for r in rule_set.rules] == [("a", "ERROR", None)]


def test_protobuf_types_from_a_descriptor_set(tmp_path):
    """`descriptorSet` registers the types of a `protoc --descriptor_set_out` file."""
    (tmp_path / "shop.proto").write_text(
        'syntax = "proto3"; package rulestest.shop; message Item { string sku = 1; int32 qty = 2; }'
    )
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{tmp_path}", "--include_imports",
         f"--descriptor_set_out={tmp_path / 'shop.desc'}", "shop.proto"],
        check=True,
    )
    module_file = tmp_path / "module.yaml"
    module_file.write_text(rules("""
        kind: baton.rules.v1/rules
        spec:
          messageType: type.googleapis.com/rulestest.shop.Item
          descriptors: [{descriptorSet: shop.desc}]
          rules:
            - {name: qty, expr: message.qty > 0}
        """))
    assert load_module(module_file).rules[0].rules[0].name == "qty"
    module_file.write_text(module_file.read_text().replace("message.qty", "message.quantity"))
    with pytest.raises(Exception, match="undefined field 'quantity'"):
        load_module(module_file)


def test_baton_build_strips_rules_and_says_so(tmp_path):
    module_file = tmp_path / "module.yaml"
    module_file.write_text(rules("""
        kind: baton.rules.v1/rules
        spec:
          rules: [{name: r, expr: message.quantity > 0}]
        """))
    with pytest.warns(UserWarning, match="rules are dropped: a StateFun cluster does not check"):
        build = render(module_file, "http://interpreter:8000/statefun")
    assert "baton.rules" not in build.module_yaml
