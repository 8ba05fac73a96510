"""Data-quality rules at ingress: `baton.rules.v1/rules` (a baton addition).

A document attaches CEL conditions to the messages entering through an ingress, selected by
ingress id, topic, message type and target function type. Each rule has Confluent's data-contract
shape (`name`, `kind: CONDITION`, `type: CEL`, `expr`, `onFailure`, `params`), sees the message
as `message`, and is compiled here, at load, so a bad expression is a file:line error. Protobuf
message types are known from the `descriptors` the document registers (a generated `_pb2`
module or a `protoc --descriptor_set_out` file); with a protobuf `messageType`, expressions are
type-checked against the message's fields.

    kind: baton.rules.v1/rules
    spec:
      functionType: orders/order
      messageType: [orders/OrderLine, type.googleapis.com/orders.OrderLine]
      descriptors: [{pythonModule: proto.orders_pb2}]
      rules:
        - name: positive-quantity
          kind: CONDITION
          type: CEL
          expr: message.quantity > 0
          onFailure: DLQ
          params: {dlq.egress: io.statefun.playground/egress, dlq.topic: orders-rejected}
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

from cel_expr_python import cel
from google.protobuf import descriptor_pb2, descriptor_pool

from baton.diagnostics import ModuleError
from baton.module.components import Parsed
from baton.module.fields import check_keys, one_of, target_functions
from baton.module.specs import (
    EgressSpec,
    KafkaEgressSpec,
    KinesisEgressSpec,
    PlaygroundEgressSpec,
    RuleSetSpec,
    RuleSpec,
    SourceLocation,
)
from baton.module.yaml_nodes import Node

KEYS = ("ingress", "topic", "messageType", "functionType", "descriptors", "rules")
RULE_KEYS = ("name", "kind", "type", "expr", "onFailure", "params", "doc", "disabled")
ON_FAILURE = ("DLQ", "ERROR", "NONE")
DLQ_EGRESS, DLQ_TOPIC = "dlq.egress", "dlq.topic"
PROTOBUF_PREFIX = "type.googleapis.com/"  # typenames of protobuf messages, as StateFun's SDKs write them
_RULE_EXAMPLE = "- {name: positive-quantity, kind: CONDITION, type: CEL, expr: message.quantity > 0}"
_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+): ")


def parse(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """A `baton.rules.v1/rules` document."""
    spec.mapping("rules: [...]")
    check_keys(spec, KEYS)
    for node in _items(spec.get("descriptors")):
        _register_descriptors(node)
    type_nodes = _items(spec.get("messageType"))
    message_types = tuple(node.text(example="messageType: orders/OrderLine") for node in type_nodes)
    for node, typename in zip(type_nodes, message_types, strict=True):
        if typename.startswith(PROTOBUF_PREFIX):
            _message_descriptor(node, typename)
    env = _environment(message_types)
    rules_node = spec.require("rules", _RULE_EXAMPLE)
    items = rules_node.items(_RULE_EXAMPLE)
    if not items:
        rules_node.fail(f"`rules` lists no rule; add one, e.g.\n  {_RULE_EXAMPLE}")
    rules = tuple(r for r in (_rule(item, env) for item in items) if r is not None)
    ingress = spec.get("ingress")
    function_type = spec.get("functionType")
    topic = spec.get("topic")
    rule_set = RuleSetSpec(
        rules=rules,
        ingress=ingress.typename("io.statefun.playground/ingress") if ingress else None,
        topic=topic.text(example="topic: orders") if topic else None,
        message_types=message_types,
        function_type=target_functions(function_type, strict=False) if function_type else None,
        source=source,
        # One program for the common case, every rule met; the newline ends a `//` comment.
        all_pass=env.compile(" && ".join(f"({r.expr}\n)" for r in rules)) if rules else None,
    )
    return Parsed(rule_set)


def _items(node: Node | None) -> list[Node]:
    """A field that takes one value or a list of them."""
    if node is None:
        return []
    return node.value if node.is_list else [node]


def _rule(node: Node, env: Any) -> RuleSpec | None:
    node.mapping(_RULE_EXAMPLE)
    check_keys(node, RULE_KEYS)
    name = node.require("name", "name: positive-quantity").text()
    if not name.strip():
        node.value["name"].fail("a rule's `name` must not be empty; it names the rule in metrics.")
    if (kind := node.get("kind")) is not None:
        one_of(kind, ("CONDITION",), "rule kind", "kinds (baton checks conditions at ingress)")
    if (type_ := node.get("type")) is not None:
        one_of(type_, ("CEL",), "rule type", "types")
    disabled = node.get("disabled")
    if disabled is not None and disabled.value is True:
        return None
    expr_node = node.require("expr", "expr: message.quantity > 0")
    expr = expr_node.text(example="expr: message.quantity > 0")
    on_failure_node = node.get("onFailure")
    # Confluent's default: a failed condition is an error for the producer.
    on_failure = one_of(on_failure_node, ON_FAILURE, "onFailure") if on_failure_node else "ERROR"
    dlq_egress, dlq_topic = None, None
    if (params := node.get("params")) is not None:
        params.mapping(f"params: {{{DLQ_EGRESS}: io.statefun.playground/egress, {DLQ_TOPIC}: bad}}")
        check_keys(params, (DLQ_EGRESS, DLQ_TOPIC))
        if on_failure != "DLQ":
            params.warn(f"`params` name a dead-letter target, but onFailure is {on_failure}, not DLQ.")
        if (egress := params.get(DLQ_EGRESS)) is not None:
            dlq_egress = egress.typename("io.statefun.playground/egress")
        if (topic := params.get(DLQ_TOPIC)) is not None:
            dlq_topic = topic.text(example=f"{DLQ_TOPIC}: orders-rejected")
            if dlq_egress is None:
                params.fail(
                    f"`{DLQ_TOPIC}` needs `{DLQ_EGRESS}`, the egress that has the topic, e.g. "
                    f"`{DLQ_EGRESS}: io.statefun.playground/egress`."
                )
    return RuleSpec(
        name=name,
        expr=expr,
        on_failure=on_failure,  # type: ignore[arg-type]  # one of ON_FAILURE
        dlq_egress=dlq_egress,
        dlq_topic=dlq_topic,
        source=SourceLocation(node.file, node.line),
        program=_compile(expr_node, env, expr),
    )


def _compile(node: Node, env: Any, expr: str) -> Any:
    try:
        program = env.compile(expr)
    except RuntimeError as error:
        text = str(error).removeprefix("INVALID_ARGUMENT: ").removesuffix(" [INVALID_ARGUMENT]")
        if (where := _CEL_POSITION.search(text)) is not None:
            text = f"{text[: where.start()]}line {where[1]}, column {where[2]}: {text[where.end():]}"
        node.fail(f"the CEL expression does not compile: {text}")
    result = program.return_type()
    if result != cel.Type.BOOL and result != cel.Type.DYN:
        node.fail(
            f"the CEL expression gives {result.name()}, not a bool; a condition must be true "
            "or false, e.g. `message.quantity > 0`."
        )
    return program


def _environment(message_types: tuple[str, ...]) -> Any:
    """`message` typed as the protobuf message when the rules select exactly one such type."""
    names = {t.removeprefix(PROTOBUF_PREFIX) for t in message_types}
    typed = len(names) == 1 and all(t.startswith(PROTOBUF_PREFIX) for t in message_types)
    message = cel.Type(names.pop()) if typed else cel.Type.DYN
    return cel.NewEnv(descriptor_pool.Default(), variables={"message": message})


def _message_descriptor(node: Node, typename: str) -> None:
    name = typename.removeprefix(PROTOBUF_PREFIX)
    try:
        descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:
        node.fail(
            f"no protobuf descriptor for {name!r} is registered; add its generated module or "
            "descriptor set to `descriptors`, e.g. `descriptors: [{pythonModule: proto.orders_pb2}]`."
        )


def _register_descriptors(node: Node) -> None:
    """Make a document's protobuf types known: import a `_pb2` module or add a descriptor set."""
    node.mapping("- {pythonModule: proto.orders_pb2}")
    check_keys(node, ("pythonModule", "descriptorSet"))
    base = Path(node.file).resolve().parent
    if (module := node.get("pythonModule")) is not None:
        name = module.text(example="pythonModule: proto.orders_pb2")
        # Generated modules live beside the application, whose root holds module.yaml.
        sys.path.insert(0, str(base))
        try:
            importlib.import_module(name)
        except ImportError as error:
            module.fail(
                f"cannot import {name!r} ({error}); name a generated module importable from "
                f"{base} or the Python path, e.g. `pythonModule: proto.orders_pb2`."
            )
        finally:
            sys.path.remove(str(base))
    elif (path_node := node.get("descriptorSet")) is not None:
        path = base / path_node.text(example="descriptorSet: proto/orders.desc")
        try:
            files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file
        except (OSError, ValueError) as error:
            path_node.fail(
                f"cannot read the descriptor set {path} ({error}); write one with "
                "`protoc --include_imports --descriptor_set_out=orders.desc orders.proto`."
            )
        pool = descriptor_pool.Default()
        for file in files:
            try:
                pool.FindFileByName(file.name)
            except KeyError:
                pool.Add(file)
    else:
        node.fail("a descriptors entry needs `pythonModule` or `descriptorSet`.")


def check_rules(rule_sets: tuple[RuleSetSpec, ...], egresses: tuple[EgressSpec, ...]) -> list[ModuleError]:
    """Across documents: rule names are unique, and every dead-letter target exists."""
    errors = []
    seen: dict[str, SourceLocation] = {}
    by_id = {e.id: e for e in egresses}
    for rule in (r for rule_set in rule_sets for r in rule_set.rules):
        file, line = rule.source.file, rule.source.line
        if (previous := seen.setdefault(rule.name, rule.source)) is not rule.source:
            errors.append(ModuleError(
                f"rule name {rule.name!r} is also used at {previous}; names identify rules in "
                "metrics and dead letters, so each must be unique.", file=file, line=line, field="name",
            ))
        if rule.dlq_egress is None:
            continue
        egress = by_id.get(rule.dlq_egress)
        problem = None
        if egress is None:
            declared = ", ".join(str(e) for e in by_id) or "none"
            problem = f"egress {rule.dlq_egress} is not declared (declared: {declared})"
        elif isinstance(egress, PlaygroundEgressSpec) and rule.dlq_topic not in egress.topics:
            problem = (
                f"the playground egress needs `{DLQ_TOPIC}`, one of its topics "
                f"({', '.join(egress.topics)}); got {rule.dlq_topic!r}"
            )
        elif isinstance(egress, (KafkaEgressSpec, KinesisEgressSpec)) and not rule.dlq_topic:
            problem = f"egress {rule.dlq_egress} needs `{DLQ_TOPIC}`, the topic or stream to write to"
        if problem:
            errors.append(
                ModuleError(f"dead-letter target: {problem}.", file=file, line=line, field="params")
            )
    return errors
