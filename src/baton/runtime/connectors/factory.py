"""The connectors a module declares: a source per Kafka ingress, a publisher per Kafka egress."""

from __future__ import annotations

from baton.module.kinds import KAFKA_EGRESS, KAFKA_INGRESS
from baton.module.specs import KafkaEgressSpec, KafkaIngressSpec, ModuleSpec
from baton.runtime.connectors.publisher import OutboxDrain
from baton.runtime.connectors.source import Connector, SourceRuntime
from baton.runtime.egress import EgressRouter

# Kinds a connector serves (others are parsed but not connected).
CONNECTED_KINDS = frozenset({KAFKA_INGRESS, KAFKA_EGRESS})


def connectors_for(module: ModuleSpec, runtime: SourceRuntime, router: EgressRouter) -> list[Connector]:
    """Sources first, then publishers (the Kafka client is imported only when a module uses it)."""
    connectors: list[Connector] = []
    if any(isinstance(i, KafkaIngressSpec) for i in module.ingresses):
        from baton.runtime.connectors.kafka_source import KafkaSource

        connectors += [KafkaSource(i, runtime) for i in module.ingresses if isinstance(i, KafkaIngressSpec)]
    if any(isinstance(e, KafkaEgressSpec) for e in module.egresses):
        from baton.runtime.connectors.kafka_publisher import KafkaPublisher

        connectors += [
            OutboxDrain(KafkaPublisher(e), router) for e in module.egresses if isinstance(e, KafkaEgressSpec)
        ]
    return connectors
