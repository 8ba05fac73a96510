"""The connectors a module declares: a source per Kafka or Kinesis ingress, a publisher per egress."""

from __future__ import annotations

from baton.module.kinds import KAFKA_EGRESS, KAFKA_INGRESS, KINESIS_EGRESS, KINESIS_INGRESS
from baton.module.specs import (
    KafkaEgressSpec,
    KafkaIngressSpec,
    KinesisEgressSpec,
    KinesisIngressSpec,
    ModuleSpec,
)
from baton.runtime.connectors.publisher import OutboxDrain
from baton.runtime.connectors.source import Connector, SourceRuntime
from baton.runtime.egress import EgressRouter

# Kinds a connector serves (others are parsed but not connected).
CONNECTED_KINDS = frozenset({KAFKA_INGRESS, KAFKA_EGRESS, KINESIS_INGRESS, KINESIS_EGRESS})


def connectors_for(module: ModuleSpec, runtime: SourceRuntime, router: EgressRouter) -> list[Connector]:
    """Sources first, then publishers (a client library is imported only when a module uses it)."""
    connectors: list[Connector] = []
    if any(isinstance(i, KafkaIngressSpec) for i in module.ingresses):
        from baton.runtime.connectors.kafka_source import KafkaSource

        connectors += [KafkaSource(i, runtime) for i in module.ingresses if isinstance(i, KafkaIngressSpec)]
    if any(isinstance(i, KinesisIngressSpec) for i in module.ingresses):
        from baton.runtime.connectors.kinesis_source import KinesisSource

        connectors += [
            KinesisSource(i, runtime) for i in module.ingresses if isinstance(i, KinesisIngressSpec)
        ]
    if any(isinstance(e, KafkaEgressSpec) for e in module.egresses):
        from baton.runtime.connectors.kafka_publisher import KafkaPublisher

        connectors += [
            OutboxDrain(KafkaPublisher(e), router) for e in module.egresses if isinstance(e, KafkaEgressSpec)
        ]
    if any(isinstance(e, KinesisEgressSpec) for e in module.egresses):
        from baton.runtime.connectors.kinesis_publisher import KinesisPublisher

        connectors += [  # maxOutstandingRecords: how many records are in flight at once
            OutboxDrain(KinesisPublisher(e), router, batch=e.max_outstanding_records)
            for e in module.egresses if isinstance(e, KinesisEgressSpec)
        ]
    return connectors
