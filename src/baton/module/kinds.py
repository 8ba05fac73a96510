"""Every kind and fixed typename baton knows, each written once.

Document kinds (the `kind:` of a module.yaml document), transport types, the ids of the playground
ingress and egress, the typenames of egress records, and baton's own additions. Kinds that are
parser-table keys or `type:` values are plain strings; kinds compared with a parsed document's
`kind` or used as function types are `TypeName`s.
"""

from __future__ import annotations

from baton.module.typename import TypeName

# --- StateFun 3.3 document kinds (statefun-reference §1) ----------------------------------------

ENDPOINT_V1 = "io.statefun.endpoints.v1/http"
ENDPOINT_V2 = "io.statefun.endpoints.v2/http"
KAFKA_INGRESS = "io.statefun.kafka.v1/ingress"
KAFKA_EGRESS = "io.statefun.kafka.v1/egress"
KINESIS_INGRESS = "io.statefun.kinesis.v1/ingress"
KINESIS_EGRESS = "io.statefun.kinesis.v1/egress"
PLAYGROUND_INGRESS = "io.statefun.playground.v1/ingress"
PLAYGROUND_EGRESS = "io.statefun.playground.v1/egress"
STATEFUN_KINDS: tuple[str, ...] = (
    ENDPOINT_V1,
    ENDPOINT_V2,
    KAFKA_INGRESS,
    KAFKA_EGRESS,
    KINESIS_INGRESS,
    KINESIS_EGRESS,
    PLAYGROUND_INGRESS,
    PLAYGROUND_EGRESS,
)

# The legacy `version: "3.0"` format names its kinds differently (§1.12).
LEGACY_KINDS = {
    "http": ENDPOINT_V1,
    "io.statefun.kafka/ingress": KAFKA_INGRESS,
    "io.statefun.kafka/egress": KAFKA_EGRESS,
    "io.statefun.kinesis/ingress": KINESIS_INGRESS,
    "io.statefun.kinesis/egress": KINESIS_EGRESS,
}

# --- transports of io.statefun.endpoints.v2/http (§1.7) -------------------------------------------

OKHTTP_TRANSPORT = "io.statefun.transports.v1/okhttp"
ASYNC_TRANSPORT = "io.statefun.transports.v1/async"  # the default when `type` is absent

# --- fixed ids and typenames of the built-in ingresses and egresses -----------------------------

PLAYGROUND_INGRESS_ID = TypeName("io.statefun.playground", "ingress")
PLAYGROUND_EGRESS_ID = TypeName("io.statefun.playground", "egress")
PLAYGROUND_EGRESS_RECORD_TYPE = "io.statefun.playground/EgressRecord"
KAFKA_PRODUCER_RECORD_TYPE = "type.googleapis.com/io.statefun.sdk.egress.KafkaProducerRecord"
KINESIS_EGRESS_RECORD_TYPE = "type.googleapis.com/io.statefun.sdk.egress.KinesisEgressRecord"

# --- baton-only additions (statefun-reference has no equivalent; a real cluster rejects them) --

LAMBDA_ENDPOINT = "baton.endpoints.v1/lambda"
LAMBDA_URL_TRANSPORT = "baton.transports.v1/lambda-url"
WORKFLOW_KIND = TypeName("baton.workflows.v1", "workflow")
LAMBDA_BRIDGE_TYPE = TypeName("baton.workflows", "lambda")  # runs Lambda tasks of workflows
WORKFLOW_START_TYPENAME = "baton.workflows/Start"  # a workflow execution's JSON input
RULES_KIND = "baton.rules.v1/rules"  # data-quality rules at ingress


def is_baton_extension(kind: TypeName) -> bool:
    """Whether a kind belongs to baton (namespace `baton` or `baton.…`), not to StateFun."""
    return kind.namespace == "baton" or kind.namespace.startswith("baton.")
