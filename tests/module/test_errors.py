"""Broken module.yaml files: every error names file, line, field and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.module import ModuleError, load_module
from tests.module.inline import error_of

FIXTURES = Path(__file__).parent / "fixtures"


V2_HEAD = """
kind: io.statefun.endpoints.v2/http
spec:
  functions: example/*
  urlPathTemplate: http://localhost:8000/statefun
"""

KAFKA_HEAD = """
kind: io.statefun.kafka.v1/ingress
spec:
  id: example/names
  address: kafka:9092
  consumerGroupId: group
  topics:
    - {topic: names, valueType: example/Name, targets: [example/person]}
"""

# (case id, YAML, line, field, message fragments)
CASES = [
    (
        "yaml-syntax",
        """
        kind: io.statefun.playground.v1/ingress
        spec:
          port: [8090
        """,
        3,
        None,
        ["invalid YAML", "expected ',' or ']'", "while parsing a flow sequence started at line 3"],
    ),
    (
        "document-not-a-mapping",
        """
        kind: io.statefun.playground.v1/ingress
        spec: {port: 8090}
        ---
        just a string
        """,
        4,
        None,
        [
            "must be a mapping with the keys `kind` and `spec`",
            "got 'just a string'",
            "Invalid ComponentJsonObject",
        ],
    ),
    (
        "missing-spec",
        """
        # a comment first
        kind: io.statefun.playground.v1/ingress
        port: 8090
        """,
        2,
        "spec",
        ["missing required key `spec`", "Every document needs `kind:` and `spec:`"],
    ),
    (
        "kind-with-two-slashes",
        """
        kind: io.statefun/endpoints/v2
        spec: {}
        """,
        1,
        "kind",
        ["Invalid type name string: 'io.statefun/endpoints/v2'", "<namespace>/<name>"],
    ),
    (
        "kind-with-trailing-slash",
        """
        kind: "io.statefun.endpoints.v2/"
        spec: {}
        """,
        1,
        "kind",
        ["Invalid type name string"],
    ),
    (
        "unknown-kind",
        """
        kind: io.statefun.endpoint.v2/http
        spec: {}
        """,
        1,
        "kind",
        [
            "unknown kind `io.statefun.endpoint.v2/http`",
            "An extension with type TypeName(io.statefun.endpoint.v2, http) does not exist.",
            "Accepted kinds: io.statefun.endpoints.v1/http",
            "Did you mean `io.statefun.endpoints.v2/http`?",
        ],
    ),
    (
        "missing-functions",
        """
        kind: io.statefun.endpoints.v2/http
        spec:
          urlPathTemplate: http://localhost:8000/statefun
        """,
        2,
        "spec.functions",
        ["missing required key `functions`", "`functions: example/*`"],
    ),
    (
        "v1-functions-not-a-string",
        """
        kind: io.statefun.endpoints.v1/http
        spec:
          functions: [example/*]
          urlPathTemplate: http://localhost:8000/statefun
        """,
        3,
        "spec.functions",
        ["`functions` must be a string, got a list"],
    ),
    (
        "star-in-namespace",
        """
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: com.*/greeter
          urlPathTemplate: http://localhost:8000/statefun
        """,
        3,
        "spec.functions",
        [
            "Invalid syntax for target functions",
            "Only <namespace>/<name> or <namespace>/* are supported",
        ],
    ),
    (
        "partial-star-in-name",
        """
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/greet*
          urlPathTemplate: http://localhost:8000/statefun
        """,
        3,
        "spec.functions",
        ["Invalid syntax for target functions: 'example/greet*'", "no prefix matching"],
    ),
    (
        "max-batch-not-an-integer",
        V2_HEAD + "  maxNumBatchRequests: ten\n",
        5,
        "spec.maxNumBatchRequests",
        ["`maxNumBatchRequests` must be an integer, got 'ten'. Use a number such as 1000."],
    ),
    (
        "v1-max-batch-quoted-number",  # Selectors.optionalIntegerAt wants a real int
        """
        kind: io.statefun.endpoints.v1/http
        spec:
          functions: example/*
          urlPathTemplate: http://localhost:8000/statefun
          maxNumBatchRequests: "10"
        """,
        5,
        "spec.maxNumBatchRequests",
        ["must be an integer, got '10'"],
    ),
    (
        "zero-timeout",
        """
        kind: io.statefun.endpoints.v1/http
        spec:
          functions: example/*
          urlPathTemplate: http://localhost:8000/statefun
          timeouts:
            call: 0ms
        """,
        6,
        "spec.timeouts.call",
        ["Timeout durations must be larger than 0."],
    ),
    (
        "connect-larger-than-call",
        V2_HEAD
        + "  transport:\n    type: io.statefun.transports.v1/okhttp\n"
        + "    timeouts:\n      call: 1min\n      connect: 2min\n",
        9,
        "spec.transport.timeouts.connect",
        [
            "Connect timeout cannot be larger than request timeout",
            "`connect` is 2 min but `call` is 1 min",
        ],
    ),
    (
        "call-below-default-read",  # the default read timeout (10 s) is larger than call
        """
        kind: io.statefun.endpoints.v1/http
        spec:
          functions: example/*
          urlPathTemplate: http://localhost:8000/statefun
          timeouts:
            call: 5s
            connect: 1s
        """,
        6,
        "spec.timeouts.call",
        [
            "Read timeout cannot be larger than request timeout",
            "`read` is 10 s (the default) but `call` is 5 s",
        ],
    ),
    (
        "bad-duration-unit",
        V2_HEAD + "  transport:\n    call: 2 fortnights\n",
        6,
        "spec.transport.call",
        ["`call` is not a valid duration", "time unit 'fortnights'", "`call: 10s`"],
    ),
    (
        "unknown-transport-type",
        V2_HEAD + "  transport:\n    type: io.statefun.transports.v1/okhtp\n",
        6,
        "spec.transport.type",
        [
            "unknown transport type `io.statefun.transports.v1/okhtp`",
            "Did you mean `io.statefun.transports.v1/okhttp`?",
        ],
    ),
    (
        "mtls-cert-without-key",
        V2_HEAD + "  transport:\n    client_cert: file:/etc/cert.pem\n",
        6,
        "spec.transport.client_cert",
        ["You need to provide both the cert and the key", "`client_key` is not"],
    ),
    (
        "unix-socket-with-async",
        """
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/*
          urlPathTemplate: http+unix:///run/fn.sock/statefun
        """,
        4,
        "spec.urlPathTemplate",
        ["only the OkHttp transport supports", "io.statefun.transports.v1/okhttp"],
    ),
    (
        "url-bad-scheme",
        """
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/*
          urlPathTemplate: ftp://localhost/statefun
        """,
        4,
        "spec.urlPathTemplate",
        ["has 'ftp'", "the scheme must be http or https"],
    ),
    (
        "url-unknown-placeholder",
        """
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/*
          urlPathTemplate: http://localhost/{function.namespace}/{function.name}
        """,
        4,
        "spec.urlPathTemplate",
        ["unknown placeholder", "the only placeholder is {function.name}"],
    ),
    (
        "duplicate-wildcard-binding",
        V2_HEAD + "---\n" + V2_HEAD.lstrip("\n"),
        8,
        "spec.functions",
        ["A binding for the key example/* was previously defined at module.yaml:3."],
    ),
    (
        "duplicate-playground-ingress",
        """
        kind: io.statefun.playground.v1/ingress
        spec: {port: 8090}
        ---
        kind: io.statefun.playground.v1/ingress
        spec: {port: 8091}
        """,
        5,
        "spec",
        [
            "A binding for the key io.statefun.playground/ingress was previously defined"
            " at module.yaml:2."
        ],
    ),
    (
        "kafka-missing-address",
        """
        kind: io.statefun.kafka.v1/ingress
        spec:
          id: example/names
          consumerGroupId: group
          topics: [{topic: names, valueType: example/Name, targets: [example/person]}]
        """,
        2,
        "spec.address",
        ["Missing setting for Kafka address.", "`address: kafka:9092`", "bootstrap.servers"],
    ),
    (
        "kafka-missing-group-id",
        """
        kind: io.statefun.kafka.v1/ingress
        spec:
          id: example/names
          properties:
            - bootstrap.servers: kafka:9092
          topics: [{topic: names, valueType: example/Name, targets: [example/person]}]
        """,
        2,
        "spec.consumerGroupId",
        ["Missing setting for consumer group id.", "group.id"],
    ),
    (
        "kafka-no-topics",
        """
        kind: io.statefun.kafka.v1/ingress
        spec:
          id: example/names
          address: kafka:9092
          consumerGroupId: group
          topics: []
        """,
        6,
        "spec.topics",
        ["Must define at least one Kafka topic to consume from."],
    ),
    (
        "kafka-bad-auto-offset-reset",
        KAFKA_HEAD + "  autoOffsetResetPosition: newest\n",
        8,
        "spec.autoOffsetResetPosition",
        ["Invalid autoOffsetResetPosition: newest; valid values are [EARLIEST, LATEST]"],
    ),
    (
        "kafka-bad-startup-type",
        KAFKA_HEAD + "  startupPosition:\n    type: from-start\n",
        9,
        "spec.startupPosition.type",
        [
            "Invalid startup position type: from-start; valid values are"
            " [group-offsets, earliest, latest, specific-offsets, date]"
        ],
    ),
    (
        "kafka-bad-startup-date",
        KAFKA_HEAD + "  startupPosition:\n    type: date\n    date: 2020-02-01T04:15:00Z\n",
        10,
        "spec.startupPosition.date",
        [
            "Unable to parse date string for startup position: '2020-02-01T04:15:00Z'",
            "yyyy-MM-dd HH:mm:ss.SSS Z",
        ],
    ),
    (
        "kafka-bad-offset-key",
        KAFKA_HEAD
        + "  startupPosition:\n    type: specific-offsets\n    offsets:\n      - names: 42\n",
        11,
        "spec.startupPosition.offsets[0].names",
        ["names does not conform to the <topic>/<partition_id> format"],
    ),
    (
        "kafka-properties-as-mapping",
        KAFKA_HEAD + "  properties:\n    max.poll.records: 500\n",
        8,
        "spec.properties",
        ["must be a list of single-entry maps, not a mapping", "- bootstrap.servers: kafka:9092"],
    ),
    (
        "kafka-invalid-delivery-semantic",
        """
        kind: io.statefun.kafka.v1/egress
        spec:
          id: example/out
          address: kafka:9092
          deliverySemantic:
            type: exactly_once
        """,
        6,
        "spec.deliverySemantic.type",
        [
            "Invalid delivery semantic type: exactly_once;"
            " valid types are [at-least-once, exactly-once, none]",
            "Did you mean `exactly-once`?",
        ],
    ),
    (
        "kafka-exactly-once-without-timeout",
        """
        kind: io.statefun.kafka.v1/egress
        spec:
          id: example/out
          address: kafka:9092
          deliverySemantic:
            type: exactly-once
        """,
        5,
        "spec.deliverySemantic.transactionTimeout",
        ["needs a transaction timeout", "`transactionTimeout: 15min`"],
    ),
    (
        "kafka-egress-without-address",
        """
        kind: io.statefun.kafka.v1/egress
        spec:
          id: example/out
        """,
        2,
        "spec.address",
        ["missing required key `address`"],
    ),
    (
        "kinesis-bad-region-type",
        """
        kind: io.statefun.kinesis.v1/egress
        spec:
          id: example/out
          awsRegion:
            type: us-west-1
        """,
        5,
        "spec.awsRegion.type",
        [
            "Invalid AWS region type: us-west-1;"
            " valid values are [default, specific, custom-endpoint]"
        ],
    ),
    (
        "kinesis-specific-region-without-id",
        """
        kind: io.statefun.kinesis.v1/egress
        spec:
          id: example/out
          awsRegion:
            type: specific
        """,
        4,
        "spec.awsRegion.id",
        ["missing required key `id`", "`id: us-west-1`"],
    ),
    (
        "kinesis-basic-credentials-without-secret",
        """
        kind: io.statefun.kinesis.v1/ingress
        spec:
          id: example/in
          streams: [{stream: s, valueType: example/T, targets: [example/f]}]
          awsCredentials:
            type: basic
            accessKeyId: AKIA
        """,
        5,
        "spec.awsCredentials.secretAccessKey",
        ["missing required key `secretAccessKey`"],
    ),
    (
        "kinesis-no-streams",
        """
        kind: io.statefun.kinesis.v1/ingress
        spec:
          id: example/in
        """,
        2,
        "spec.streams",
        ["Must define at least one Kinesis stream to consume from."],
    ),
    (
        "playground-port-out-of-range",
        """
        kind: io.statefun.playground.v1/ingress
        spec:
          port: 70000
        """,
        3,
        "spec.port",
        ["`port` must be between 0 and 65535, got 70000"],
    ),
    (
        "playground-egress-without-topics",
        """
        kind: io.statefun.playground.v1/egress
        spec:
          port: 8091
          topics: []
        """,
        4,
        "spec.topics",
        ["`topics` must list at least one topic"],
    ),
    (
        "ingress-id-not-a-typename",
        """
        kind: io.statefun.kafka.v1/ingress
        spec:
          id: names
        """,
        3,
        "spec.id",
        ["Invalid type name string: 'names'", "`example/names`"],
    ),
    (
        "legacy-version-2",
        """
        version: "2.0"
        module:
          meta: {type: remote}
          spec: {}
        """,
        1,
        "version",
        ["Only format versions higher than or equal to 3.0 is supported. Was version 2.0."],
    ),
    (
        "legacy-version-3.1",
        """
        version: "3.1"
        module:
          meta: {type: remote}
          spec: {}
        """,
        1,
        "version",
        ["Unrecognized format version: 3.1", 'loads only the legacy version "3.0"'],
    ),
    (
        "legacy-version-unquoted",
        """
        version: 3.0
        module:
          meta: {type: remote}
          spec: {}
        """,
        1,
        "version",
        ["`version` must be a string, got the number 3.0. Quote it", 'version: "3.0"'],
    ),
    (
        "legacy-missing-module-type",
        """
        version: "3.0"
        module:
          spec: {}
        """,
        1,
        None,
        ["Unable to find a module type in module.yaml"],
    ),
    (
        "legacy-module-type-not-remote",
        """
        version: "3.0"
        module:
          meta:
            type: embedded
          spec: {}
        """,
        4,
        "module.meta.type",
        ["Unknown module type embedded, currently supported: REMOTE"],
    ),
    (
        "legacy-without-spec",
        """
        version: "3.0"
        module:
          meta: {type: remote}
        """,
        1,
        None,
        ["A module without a spec at module.yaml"],
    ),
    (
        "legacy-endpoint-error-points-into-the-item",
        """
        version: "3.0"
        module:
          meta: {type: remote}
          spec:
            endpoints:
              - endpoint:
                  meta: {kind: http}
                  spec:
                    functions: example/*
                    urlPathTemplate: http://localhost:8000/statefun
                    maxNumBatchRequests: lots
        """,
        11,
        "module.spec.endpoints[0].endpoint.spec.maxNumBatchRequests",
        ["must be an integer, got 'lots'"],
    ),
    (
        "legacy-as-one-of-several-documents",
        """
        version: "3.0"
        module: {meta: {type: remote}, spec: {}}
        ---
        """,
        1,
        "kind",
        [
            "missing required key `kind`",
            "legacy `version:` module, which must be the only document in its file",
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "fragments"),
    [
        pytest.param(text, line, field, fragments, id=case)
        for case, text, line, field, fragments in CASES
    ],
)
def test_broken_module(text, line, field, fragments):
    error = error_of(text, "module.yaml")
    assert error.file == "module.yaml"
    assert error.line == line, str(error)
    assert error.field == field, str(error)
    for fragment in fragments:
        assert fragment in error.message, f"{fragment!r} not in {error.message!r}"
    expected_prefix = f"module.yaml:{line}: {field}: " if field else f"module.yaml:{line}: "
    assert str(error).startswith(expected_prefix)


def test_at_least_twelve_kinds_of_broken_files_are_covered():
    assert len({case for case, *_ in CASES}) >= 12


def test_duplicate_binding_across_files_names_both_locations():
    with pytest.raises(ModuleError) as info:
        load_module([FIXTURES / "greeter.yaml", FIXTURES / "greeter.yaml"])
    error = info.value
    first = str(FIXTURES / "greeter.yaml")
    assert (error.file, error.line, error.field) == (first, 5, "spec.functions")
    assert f"A binding for the key example/* was previously defined at {first}:5." in error.message
    # the playground ingress and egress are bound twice too
    assert [(e.line, e.field) for e in error.errors] == [
        (5, "spec.functions"),
        (11, "spec"),
        (15, "spec"),
    ]


def test_all_problems_are_collected_in_document_order():
    text = """
    kind: io.statefun.playground.v1/ingress
    spec: {port: -1}
    ---
    kind: io.statefun.nope.v1/ingress
    spec: {}
    ---
    kind: io.statefun.endpoints.v2/http
    spec:
      functions: example/*
      urlPathTemplate: http://localhost:8000/statefun
    ---
    kind: io.statefun.endpoints.v2/http
    spec:
      functions: example/*
      urlPathTemplate: http://localhost:8001/statefun
    """
    error = error_of(text, "app.yaml")
    assert [(e.line, e.field) for e in error.errors] == [
        (2, "spec.port"),
        (4, "kind"),
        (14, "spec.functions"),
    ]
    assert error.errors[0] is error
    assert error.render_all().splitlines()[1].startswith("app.yaml:4: kind: unknown kind")
    assert any("2 more problem(s)" in note for note in error.__notes__)


def test_errors_in_several_files_are_ordered_by_file(tmp_path):
    broken_a = tmp_path / "a.yaml"
    broken_b = tmp_path / "b.yaml"
    broken_a.write_text("kind: x/y\nspec: {}\n")
    broken_b.write_text("kind: io.statefun.playground.v1/ingress\nspec: {port: nope}\n")
    with pytest.raises(ModuleError) as info:
        load_module([broken_b, broken_a])
    assert [(Path(e.file).name, e.line) for e in info.value.errors] == [
        ("b.yaml", 2),
        ("a.yaml", 1),
    ]


def test_missing_file():
    with pytest.raises(ModuleError, match="file not found") as info:
        load_module("/nonexistent/module.yaml")
    assert (info.value.file, info.value.line) == ("/nonexistent/module.yaml", None)
    assert str(info.value) == "/nonexistent/module.yaml: file not found; check the path."
