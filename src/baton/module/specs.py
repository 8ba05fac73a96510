"""Typed specs for everything a StateFun 3.3 module.yaml can declare.

The loader (`baton.module.loader`) builds these from YAML; the runtime only ever sees these objects.
Defaults follow the StateFun 3.3 *code* (statefun-reference §1), not its docs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any, Literal

from baton.module.kinds import (
    ASYNC_TRANSPORT,
    ENDPOINT_V2,
    KAFKA_EGRESS,
    KAFKA_INGRESS,
    KINESIS_EGRESS,
    KINESIS_INGRESS,
    LAMBDA_ENDPOINT,
    LAMBDA_URL_TRANSPORT,
    OKHTTP_TRANSPORT,
    PLAYGROUND_EGRESS,
    PLAYGROUND_EGRESS_ID,
    PLAYGROUND_INGRESS,
    PLAYGROUND_INGRESS_ID,
)
from baton.module.typename import TypeName


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a spec came from: file and 1-based line, for error messages."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class TargetFunctions:
    """The `functions:` pattern of an endpoint: one exact type, or every type of a namespace."""

    namespace: str
    name: str | None  # None means the wildcard `<namespace>/*`

    @property
    def is_wildcard(self) -> bool:
        return self.name is None

    def matches(self, function_type: TypeName) -> bool:
        if self.name is None:
            return function_type.namespace == self.namespace
        return function_type.namespace == self.namespace and function_type.name == self.name

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name if self.name is not None else '*'}"


# --- transports ---------------------------------------------------------------------------


# A (str, Enum) rather than a StrEnum: str() of a member stays `RetryPolicy.OKHTTP`.
class RetryPolicy(str, Enum):  # noqa: UP042
    """Which failed attempts a transport retries (statefun-reference §3.6)."""

    # OkHttp: IO errors, 408, 409, 420, 429, 499 and 5xx; any other status fails at once.
    OKHTTP = "okhttp"
    # Async/Netty: any attempt failure, including every non-2xx status and a wrong content type.
    ASYNC = "async"


@dataclass(frozen=True, slots=True)
class OkHttpTransportSpec:
    """`io.statefun.transports.v1/okhttp` (the only transport of v1 endpoints)."""

    call: timedelta = timedelta(minutes=1)
    connect: timedelta = timedelta(seconds=10)
    read: timedelta = timedelta(seconds=10)
    write: timedelta = timedelta(seconds=10)
    type: str = OKHTTP_TRANSPORT

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy.OKHTTP


@dataclass(frozen=True, slots=True)
class AsyncTransportSpec:
    """`io.statefun.transports.v1/async` (Netty), the default of v2 endpoints."""

    call: timedelta = timedelta(minutes=2)
    connect: timedelta = timedelta(seconds=20)
    pool_ttl: timedelta = timedelta(seconds=15)
    pool_size: int = 1024
    payload_max_bytes: int = 32 * 1024 * 1024
    trust_cacerts: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    client_key_password: str | None = None
    type: str = ASYNC_TRANSPORT

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy.ASYNC


@dataclass(frozen=True, slots=True)
class LambdaUrlTransportSpec:
    """`baton.transports.v1/lambda-url` (baton only): async semantics plus SigV4 request signing.

    For a Lambda Function URL whose auth type is AWS_IAM. Credentials come from the standard AWS
    chain. A real StateFun cluster cannot sign requests; `baton build` says what to use there.
    """

    region: str | None = None  # None: from the URL host, else the AWS chain's default region
    service: str = "lambda"
    call: timedelta = timedelta(minutes=2)
    connect: timedelta = timedelta(seconds=20)
    pool_ttl: timedelta = timedelta(seconds=15)
    pool_size: int = 1024
    payload_max_bytes: int = 32 * 1024 * 1024
    type: str = LAMBDA_URL_TRANSPORT

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy.ASYNC


TransportSpec = OkHttpTransportSpec | AsyncTransportSpec | LambdaUrlTransportSpec


class FailureMode(str, Enum):  # noqa: UP042
    """What happens when a call fails for good (the fransking fork's endpoint `failureMode`).

    FAIL (the default, and StateFun 3.3's only behaviour): StateFun restarts the job; baton parks
    the address. DROP: the fork logs and skips the failed batch; baton dead-letters its messages
    with the reason and goes on with the next batch.
    """

    FAIL = "FAIL"
    DROP = "DROP"


# --- endpoints ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpEndpointSpec:
    """`io.statefun.endpoints.v1/http` or `io.statefun.endpoints.v2/http`."""

    functions: TargetFunctions
    url_path_template: str
    max_num_batch_requests: int = 1000  # <= 0 disables the batch limit
    transport: TransportSpec = field(default_factory=AsyncTransportSpec)
    failure_mode: FailureMode = FailureMode.FAIL
    kind: str = ENDPOINT_V2
    source: SourceLocation | None = None

    def url_for(self, function_type: TypeName) -> str:
        """The URL for a function type: every `{function.name}` replaced by its name, nothing else."""
        return self.url_path_template.replace("{function.name}", function_type.name)


@dataclass(frozen=True, slots=True)
class LambdaEndpointSpec:
    """`baton.endpoints.v1/lambda` (baton only): call functions with Lambda's Invoke API (boto3).

    `function_name` is a name or ARN in which every `{function.name}` is replaced, like
    `urlPathTemplate`. `endpoint_url` points boto3 elsewhere (e.g. at `baton lambda local`).
    Failures, timeouts and throttling are retried like the async transport's, within `call`.
    """

    functions: TargetFunctions
    function_name: str
    qualifier: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    max_num_batch_requests: int = 1000
    call: timedelta = timedelta(minutes=2)
    kind: str = LAMBDA_ENDPOINT
    source: SourceLocation | None = None

    def url_for(self, function_type: TypeName) -> str:
        """The Lambda function name (or ARN) for a function type."""
        return self.function_name.replace("{function.name}", function_type.name)


EndpointSpec = HttpEndpointSpec | LambdaEndpointSpec


# --- ingresses and egresses ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvalidRecordHandling:
    """What a Kafka ingress does with a record it cannot route (a null or non-UTF-8 key).

    `invalidRecordHandling` of the StateFun forks (kzmlabs: `{type: skip|fail, logLevel}`):
    `forward` (baton's default) puts it in baton's dead letters, `skip` logs and drops it,
    `fail` stops that partition (not the process) with the reason in the log.
    """

    type: Literal["forward", "skip", "fail"] = "forward"
    log_level: Literal["debug", "info", "warn", "error"] = "warn"


@dataclass(frozen=True, slots=True)
class KafkaTopicRoute:
    topic: str
    value_type: TypeName
    targets: tuple[TypeName, ...]
    invalid_records: InvalidRecordHandling | None = None  # None: the ingress's
    forward_headers: bool | None = None  # None: the ingress's


@dataclass(frozen=True, slots=True)
class KafkaIngressSpec:
    """`io.statefun.kafka.v1/ingress`."""

    id: TypeName
    address: str
    consumer_group_id: str
    topics: tuple[KafkaTopicRoute, ...]
    auto_offset_reset_position: Literal["earliest", "latest"] = "latest"
    startup_position: Literal["group-offsets", "earliest", "latest", "specific-offsets", "date"] = (
        "latest"
    )
    startup_specific_offsets: dict[str, int] = field(default_factory=dict)  # "topic/partition" → offset
    startup_date: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    invalid_records: InvalidRecordHandling | None = None  # None: not set (baton forwards)
    forward_headers: bool | None = None  # None: not set (off)
    kind: str = KAFKA_INGRESS
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class KafkaEgressSpec:
    """`io.statefun.kafka.v1/egress`."""

    id: TypeName
    address: str
    delivery_semantic: Literal["at-least-once", "exactly-once", "none"] = "at-least-once"
    transaction_timeout: timedelta | None = None
    properties: dict[str, str] = field(default_factory=dict)
    kind: str = KAFKA_EGRESS
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class AwsRegion:
    type: Literal["default", "specific", "custom-endpoint"] = "default"
    id: str | None = None
    endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    type: Literal["default", "basic", "profile"] = "default"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    profile_name: str | None = None
    profile_path: str | None = None


@dataclass(frozen=True, slots=True)
class KinesisStreamRoute:
    stream: str
    value_type: TypeName
    targets: tuple[TypeName, ...]


@dataclass(frozen=True, slots=True)
class KinesisIngressSpec:
    """`io.statefun.kinesis.v1/ingress`."""

    id: TypeName
    streams: tuple[KinesisStreamRoute, ...]
    aws_region: AwsRegion = field(default_factory=AwsRegion)
    aws_credentials: AwsCredentials = field(default_factory=AwsCredentials)
    startup_position: Literal["earliest", "latest", "date"] = "latest"
    startup_date: str | None = None
    client_config_properties: dict[str, str] = field(default_factory=dict)
    kind: str = KINESIS_INGRESS
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class KinesisEgressSpec:
    """`io.statefun.kinesis.v1/egress`."""

    id: TypeName
    aws_region: AwsRegion = field(default_factory=AwsRegion)
    aws_credentials: AwsCredentials = field(default_factory=AwsCredentials)
    max_outstanding_records: int = 1000
    client_config_properties: dict[str, str] = field(default_factory=dict)
    kind: str = KINESIS_EGRESS
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class PlaygroundIngressSpec:
    """`io.statefun.playground.v1/ingress`: HTTP `/<namespace>/<type>/<id>` → a message."""

    port: int
    id: TypeName = PLAYGROUND_INGRESS_ID
    kind: str = PLAYGROUND_INGRESS
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class PlaygroundEgressSpec:
    """`io.statefun.playground.v1/egress`: topics read with `GET /<topic>`."""

    port: int
    topics: tuple[str, ...]
    id: TypeName = PLAYGROUND_EGRESS_ID
    kind: str = PLAYGROUND_EGRESS
    source: SourceLocation | None = None


IngressSpec = KafkaIngressSpec | KinesisIngressSpec | PlaygroundIngressSpec
EgressSpec = KafkaEgressSpec | KinesisEgressSpec | PlaygroundEgressSpec


# --- data-quality rules at ingress (baton.rules.v1/rules) ----------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One CEL condition a message must meet (Confluent's data-contract rule shape)."""

    name: str
    expr: str
    on_failure: Literal["DLQ", "ERROR", "NONE"]
    dlq_egress: TypeName | None  # None: baton's dead letters
    dlq_topic: str | None
    source: SourceLocation
    program: Any = field(compare=False, repr=False)  # the CEL program compiled at load


@dataclass(frozen=True, slots=True)
class RuleSetSpec:
    """Rules and what they apply to: every given selector must match (none given: every message)."""

    rules: tuple[RuleSpec, ...]
    ingress: TypeName | None = None
    topic: str | None = None
    message_types: tuple[str, ...] = ()
    function_type: TargetFunctions | None = None
    source: SourceLocation | None = None
    all_pass: Any = field(default=None, compare=False, repr=False)  # every rule's expr, and-ed


# --- the whole module ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtensionDocument:
    """A baton-only document (e.g. `baton.workflows.v1/workflow`), kept raw for its own loader."""

    kind: TypeName
    spec: object
    source: SourceLocation | None = None
    # The YAML line of each value in `spec`, by key/index path, e.g. ("definition", "States").
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ModuleSpec:
    """Everything loaded from one or more module.yaml files."""

    endpoints: tuple[EndpointSpec, ...] = ()
    ingresses: tuple[IngressSpec, ...] = ()
    egresses: tuple[EgressSpec, ...] = ()
    extensions: tuple[ExtensionDocument, ...] = ()
    rules: tuple[RuleSetSpec, ...] = ()
    files: tuple[str, ...] = ()

    def endpoint_for(self, function_type: TypeName) -> EndpointSpec | None:
        """The endpoint serving a function type: an exact binding wins over a namespace wildcard."""
        wildcard = None
        for endpoint in self.endpoints:
            if endpoint.functions.matches(function_type):
                if not endpoint.functions.is_wildcard:
                    return endpoint
                wildcard = endpoint
        return wildcard

    def egress(self, egress_id: TypeName) -> EgressSpec | None:
        return next((e for e in self.egresses if e.id == egress_id), None)

    def ingress(self, ingress_id: TypeName) -> IngressSpec | None:
        return next((i for i in self.ingresses if i.id == ingress_id), None)
