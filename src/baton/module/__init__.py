"""module.yaml: load and validate StateFun 3.3 module files into typed specs.

- `specs`, `typename`: what a module declares, as the runtime sees it
- `kinds`: every kind and fixed typename, written once
- `loader`: the document loop (`load_module`, strict StateFun mode, duplicate bindings)
- `yaml_nodes`, `fields`, `components`: YAML with locations, shared field readers, documents
- one parser module per concept: `endpoints` (+ `transports`), `lambda_endpoint`, `kafka`,
  `kinesis`, `playground`, `legacy` (the `version: "3.0"` format)
- `render`: `baton build`'s StateFun-only module; `durations`: Flink durations

Problems are `baton.diagnostics.ModuleError`s (warnings `ModuleWarning`), located by file, line
and field.
"""

from baton.diagnostics import ModuleError, ModuleWarning
from baton.module.durations import parse_duration
from baton.module.kinds import STATEFUN_KINDS, is_baton_extension
from baton.module.loader import load_module, load_module_text, validate_application
from baton.module.specs import (
    AsyncTransportSpec,
    AwsCredentials,
    AwsRegion,
    EgressSpec,
    ExtensionDocument,
    FailureMode,
    HttpEndpointSpec,
    IngressSpec,
    KafkaEgressSpec,
    KafkaIngressSpec,
    KafkaTopicRoute,
    KinesisEgressSpec,
    KinesisIngressSpec,
    KinesisStreamRoute,
    ModuleSpec,
    OkHttpTransportSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
    RetryPolicy,
    SourceLocation,
    TargetFunctions,
    TransportSpec,
)
from baton.module.typename import TypeName

__all__ = [
    "STATEFUN_KINDS",
    "AsyncTransportSpec",
    "AwsCredentials",
    "AwsRegion",
    "EgressSpec",
    "ExtensionDocument",
    "FailureMode",
    "HttpEndpointSpec",
    "IngressSpec",
    "KafkaEgressSpec",
    "KafkaIngressSpec",
    "KafkaTopicRoute",
    "KinesisEgressSpec",
    "KinesisIngressSpec",
    "KinesisStreamRoute",
    "ModuleError",
    "ModuleSpec",
    "ModuleWarning",
    "OkHttpTransportSpec",
    "PlaygroundEgressSpec",
    "PlaygroundIngressSpec",
    "RetryPolicy",
    "SourceLocation",
    "TargetFunctions",
    "TransportSpec",
    "TypeName",
    "is_baton_extension",
    "load_module",
    "load_module_text",
    "parse_duration",
    "validate_application",
]
