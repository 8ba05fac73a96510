"""Data-quality rules at ingress: check each message before it reaches a mailbox.

Every ingress path goes through `Runtime.ingest`, which hands its messages here first, with the
ingress id and topic they came from. A message that fails a rule is, by the rule's `onFailure`:
`ERROR` — rejected, nothing of the call accepted (`RuleRejected`, HTTP 422 at the playground);
`DLQ` — accepted, but written with the rule and reason to a dead-letter egress topic or baton's
dead letters instead of its target, in the same epoch as the rest of the call; `NONE` — delivered,
counted and logged. Messages that pass are delivered untouched.

Per message, the payload is decoded once (protobuf from the registered descriptors, the built-in
`io.statefun.types/*`, else JSON) and each matching rule set is evaluated as one and-ed program;
only a message that fails it is evaluated rule by rule, to name the rules it fails.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from statefun.kafka_egress_pb2 import KafkaProducerRecord
from statefun.kinesis_egress_pb2 import KinesisEgressRecord

from baton.module.kinds import (
    KAFKA_PRODUCER_RECORD_TYPE,
    KINESIS_EGRESS_RECORD_TYPE,
    PLAYGROUND_EGRESS_RECORD_TYPE,
)
from baton.module.rules import PROTOBUF_PREFIX
from baton.module.specs import (
    KafkaEgressSpec,
    KinesisEgressSpec,
    ModuleSpec,
    RuleSetSpec,
    RuleSpec,
)
from baton.runtime.clock import Clock
from baton.runtime.egress import EgressRejected, EgressRouter
from baton.runtime.messages import Message
from baton.runtime.metrics import Metrics, RuleMetrics
from baton.runtime.store import DeadLetter, Store
from baton.runtime.typed_values import BUILTINS, describe

log = logging.getLogger(__name__)

_CACHE_LIMIT = 4096  # distinct (ingress, topic, typename, function type) keys remembered


class RuleRejected(Exception):
    """A message failed a rule whose onFailure is ERROR: the ingress refuses the call."""

    def __init__(self, rule: str, reason: str, message: Message) -> None:
        super().__init__(f"rejected by rule {rule!r}: {reason} (message to {message.target})")
        self.rule = rule
        self.reason = reason


class Undecodable(Exception):
    """The payload cannot be shown to a rule as `message`; the text says why."""


@dataclass(frozen=True, slots=True)
class Failure:
    rule: RuleSpec
    reason: str


class IngressRules:
    """The module's rules, their counters, and where failed messages go."""

    def __init__(
        self, module: ModuleSpec, metrics: Metrics, store: Store, egress: EgressRouter, clock: Clock
    ) -> None:
        self._sets = module.rules
        self._counters: dict[str, RuleMetrics] = {
            rule.name: metrics.rules.setdefault(rule.name, RuleMetrics())
            for rule_set in self._sets
            for rule in rule_set.rules
        }
        self._store = store
        self._egress = egress
        self._clock = clock
        self._matching: dict[tuple[str | None, str | None, str, str, str], tuple[RuleSetSpec, ...]] = {}

    @property
    def active(self) -> bool:
        return bool(self._sets)

    def admit(
        self, messages: Sequence[Message], ingress: str | None, topic: str | None
    ) -> list[Message]:
        """The messages to deliver; the ones that fail a DLQ rule are dead-lettered here.

        Raises RuleRejected, before anything is dead-lettered, when one fails an ERROR rule.
        """
        verdicts = [(message, self._failures(message, ingress, topic)) for message in messages]
        for message, failures in verdicts:
            for failure in failures:
                if failure.rule.on_failure == "ERROR":
                    raise RuleRejected(failure.rule.name, failure.reason, message)
        deliver = []
        for message, failures in verdicts:
            dead_letter = None
            for failure in failures:
                if failure.rule.on_failure == "NONE":
                    log.warning(
                        "rule %s: %s (message to %s; onFailure NONE: delivered)",
                        failure.rule.name, failure.reason, message.target,
                    )
                elif dead_letter is None:
                    dead_letter = failure
            if dead_letter is None:
                deliver.append(message)
            else:
                self._dead_letter(message, dead_letter, ingress, topic)
        return deliver

    # --- evaluation -----------------------------------------------------------------------

    def _failures(self, message: Message, ingress: str | None, topic: str | None) -> list[Failure]:
        target = message.target
        key = (ingress, topic, message.typename, target.namespace, target.type)
        rule_sets = self._matching.get(key)
        if rule_sets is None:
            rule_sets = self._match(key)
        if not rule_sets:
            return []
        try:
            value: Any = decode(message.typename, message.value)
            undecodable = None
        except Undecodable as error:
            value, undecodable = None, str(error)
        failures = []
        for rule_set in rule_sets:
            if undecodable is None and _holds(rule_set.all_pass, value):
                for rule in rule_set.rules:
                    self._counters[rule.name].checked += 1
                continue
            for rule in rule_set.rules:
                counter = self._counters[rule.name]
                counter.checked += 1
                reason = undecodable or _why_not(rule, value)
                if reason is not None:
                    counter.failed += 1
                    failures.append(Failure(rule, reason))
        return failures

    def _match(self, key: tuple[str | None, str | None, str, str, str]) -> tuple[RuleSetSpec, ...]:
        ingress, topic, typename, namespace, type_ = key
        found = tuple(
            rule_set
            for rule_set in self._sets
            if (rule_set.ingress is None or str(rule_set.ingress) == ingress)
            and (rule_set.topic is None or rule_set.topic == topic)
            and (not rule_set.message_types or typename in rule_set.message_types)
            and (
                rule_set.function_type is None
                or (
                    rule_set.function_type.namespace == namespace
                    and rule_set.function_type.name in (None, type_)
                )
            )
        )
        if len(self._matching) >= _CACHE_LIMIT:
            self._matching.clear()
        self._matching[key] = found
        return found

    # --- dead letters ---------------------------------------------------------------------

    def _dead_letter(
        self, message: Message, failure: Failure, ingress: str | None, topic: str | None
    ) -> None:
        """Into the rule's dead-letter egress topic, else (or if that refuses) baton's dead letters."""
        rule = failure.rule
        reason = f"rule {rule.name}: {failure.reason}"
        if rule.dlq_egress is not None:
            envelope = {
                "rule": rule.name,
                "reason": failure.reason,
                "target": str(message.target),
                "ingress": ingress,
                "topic": topic,
                **describe(message.typename, message.value),
            }
            egress = str(rule.dlq_egress)
            typename, record = _egress_record(
                self._egress.egresses.get(egress), rule.dlq_topic or "", str(message.target.id),
                json.dumps(envelope),
            )
            try:
                self._egress.publish(self._egress.check(egress, typename, record))
                return
            except EgressRejected as error:
                reason += f" (dead-letter egress {egress} refused it: {error})"
        self._store.add_dead_letter(DeadLetter(message, reason, self._clock.now()))


def _egress_record(spec: object, topic: str, key: str, payload: str) -> tuple[str, bytes]:
    """A dead-letter record in the form the egress takes from functions."""
    if isinstance(spec, KafkaEgressSpec):
        kafka = KafkaProducerRecord(topic=topic, key=key, value_bytes=payload.encode())
        return KAFKA_PRODUCER_RECORD_TYPE, kafka.SerializeToString()
    if isinstance(spec, KinesisEgressSpec):
        kinesis = KinesisEgressRecord(stream=topic, partition_key=key, value_bytes=payload.encode())
        return KINESIS_EGRESS_RECORD_TYPE, kinesis.SerializeToString()
    return PLAYGROUND_EGRESS_RECORD_TYPE, json.dumps({"topic": topic, "payload": payload}).encode()


def _holds(program: Any, value: Any) -> bool:
    try:
        return program.eval(data={"message": value}).value() is True
    except Exception:  # the rule-by-rule pass says what went wrong
        return False


def _why_not(rule: RuleSpec, value: Any) -> str | None:
    """None when the message meets the rule, else why not."""
    try:
        result = rule.program.eval(data={"message": value})
    except Exception as error:  # a value CEL cannot take fails the check
        return f"cannot evaluate `{rule.expr}`: {error}"
    outcome = result.value()
    if outcome is True:
        return None
    if outcome is False:
        return f"`{rule.expr}` is false"
    if result.type() == cel.Type.ERROR:
        return f"`{rule.expr}` cannot be evaluated: {outcome}"
    return f"`{rule.expr}` gives {result.type().name()}, not a bool"


# --- the message as a rule sees it ----------------------------------------------------------

_classes: dict[str, Any] = {}


def decode(typename: str, value: bytes | None) -> Any:
    """The payload as CEL takes it: a protobuf message, a built-in's value, or decoded JSON."""
    if value is None:
        return None
    if typename.startswith(PROTOBUF_PREFIX):
        cls = _message_class(typename.removeprefix(PROTOBUF_PREFIX))
        try:
            return cls.FromString(value)
        except DecodeError as error:
            raise Undecodable(f"not a valid serialized {typename}: {error}") from None
    wrapper = BUILTINS.get(typename)
    if wrapper is not None:
        try:
            return wrapper.FromString(value).value
        except DecodeError:
            if typename == "io.statefun.types/string":  # raw UTF-8 from the playground ingress
                return value.decode("utf-8", "replace")
            raise Undecodable(f"not a valid {typename}") from None
    try:
        return json.loads(value)
    except ValueError as error:
        raise Undecodable(
            f"the payload of {typename} is not JSON ({error}); rules read JSON, built-in types "
            f"and protobuf messages typed {PROTOBUF_PREFIX}<full name>"
        ) from None


def _message_class(name: str) -> Any:
    cls = _classes.get(name)
    if cls is None:
        try:
            descriptor = descriptor_pool.Default().FindMessageTypeByName(name)
        except KeyError:
            raise Undecodable(
                f"no protobuf descriptor for {name!r} is registered; add its generated module to "
                "the rules document's `descriptors`"
            ) from None
        cls = _classes[name] = message_factory.GetMessageClass(descriptor)
    return cls
