"""Loading valid module.yaml files into specs."""

from __future__ import annotations

import textwrap
import warnings
from datetime import timedelta
from pathlib import Path

import pytest

from baton.module import (
    AsyncTransportSpec,
    AwsCredentials,
    AwsRegion,
    ExtensionDocument,
    KafkaEgressSpec,
    KafkaIngressSpec,
    KafkaTopicRoute,
    KinesisEgressSpec,
    KinesisIngressSpec,
    KinesisStreamRoute,
    ModuleError,
    ModuleWarning,
    OkHttpTransportSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
    SourceLocation,
    TargetFunctions,
    TypeName,
    load_module,
    load_module_text,
    validate_application,
)
from tests.module.inline import yaml

FIXTURES = Path(__file__).parent / "fixtures"


def test_greeter_fixture_matches_the_playground_python_greeter():
    module = load_module(FIXTURES / "greeter.yaml")

    (endpoint,) = module.endpoints
    assert endpoint.kind == "io.statefun.endpoints.v2/http"
    assert endpoint.functions == TargetFunctions("example", None)
    assert endpoint.url_path_template == "http://localhost:8000/statefun"
    assert endpoint.transport == AsyncTransportSpec()
    assert endpoint.max_num_batch_requests == 1000
    assert endpoint.source == SourceLocation(str(FIXTURES / "greeter.yaml"), 3)
    assert module.ingresses == (
        PlaygroundIngressSpec(port=8090, source=SourceLocation(str(FIXTURES / "greeter.yaml"), 10)),
    )
    (egress,) = module.egresses
    assert isinstance(egress, PlaygroundEgressSpec)
    assert (egress.port, egress.topics) == (8091, ("greetings",))
    assert module.files == (str(FIXTURES / "greeter.yaml"),)
    validate_application(module)


def test_a_directory_stands_for_its_module_yaml(tmp_path):
    (tmp_path / "module.yaml").write_text((FIXTURES / "greeter.yaml").read_text())
    module = load_module(tmp_path)
    assert module.files == (str(tmp_path / "module.yaml"),)
    assert len(module.endpoints) == 1


def test_every_kind_loads(recwarn):
    path = FIXTURES / "all_kinds.yaml"
    module = load_module(str(path))
    file = str(path)
    assert not [w for w in recwarn if issubclass(w.category, ModuleWarning)]

    v1, okhttp, async_ = module.endpoints
    assert v1.kind == "io.statefun.endpoints.v1/http"
    assert v1.functions == TargetFunctions("shop", "cart")
    assert v1.max_num_batch_requests == 50
    assert v1.transport == OkHttpTransportSpec(
        call=timedelta(minutes=2),
        connect=timedelta(seconds=5),
        read=timedelta(seconds=30),
        write=timedelta(seconds=15),
    )
    assert v1.source == SourceLocation(file, 1)

    assert okhttp.max_num_batch_requests == 0  # <= 0 disables the batch limit
    assert okhttp.transport == OkHttpTransportSpec(call=timedelta(seconds=90))

    assert async_.transport == AsyncTransportSpec(
        call=timedelta(minutes=3),
        connect=timedelta(seconds=1),
        pool_ttl=timedelta(0),
        pool_size=16,
        payload_max_bytes=1048576,
        trust_cacerts="file:/etc/ca.pem",
        client_cert="classpath:cert.pem",
        client_key="/etc/key.pem",
        client_key_password="/etc/key.pass",
    )

    orders, late, clicks, playground_in = module.ingresses
    assert orders == KafkaIngressSpec(
        id=TypeName("shop", "orders"),
        address="kafka:9092",
        consumer_group_id="shop",
        topics=(
            KafkaTopicRoute(
                "orders",
                TypeName("shop", "Order"),
                (TypeName("shop", "cart"), TypeName("payments", "ledger")),
            ),
            KafkaTopicRoute(
                "refunds",
                TypeName("io.statefun.types", "string"),
                (TypeName("payments", "ledger"),),
            ),
        ),
        auto_offset_reset_position="earliest",
        startup_position="specific-offsets",
        startup_specific_offsets={"orders/0": 42, "orders/1": 7},
        properties={"max.poll.records": "500", "isolation.level": "read_committed"},
        source=SourceLocation(file, 37),
    )
    # address and group id may come from the Kafka properties instead of the named fields.
    assert (late.address, late.consumer_group_id) == ("kafka:9092", "late-group")
    assert (late.startup_position, late.startup_date) == ("date", "2020-02-01 04:15:00.000 +0100")
    assert clicks == KinesisIngressSpec(
        id=TypeName("shop", "clicks"),
        streams=(
            KinesisStreamRoute("clicks", TypeName("shop", "Click"), (TypeName("shop", "cart"),)),
        ),
        aws_region=AwsRegion("custom-endpoint", id="us-west-1", endpoint="https://localhost:4567"),
        aws_credentials=AwsCredentials(
            "profile", profile_name="dev", profile_path="/home/dev/.aws/credentials"
        ),
        startup_position="earliest",
        client_config_properties={"SocketTimeout": "9999"},
        source=clicks.source,
    )
    assert playground_in.port == 0

    receipts, audit, playground_out = module.egresses
    assert receipts == KafkaEgressSpec(
        id=TypeName("shop", "receipts"),
        address="kafka:9092",
        delivery_semantic="exactly-once",
        transaction_timeout=timedelta(minutes=15),
        properties={"transaction.timeout.ms": "900000"},
        source=receipts.source,
    )
    assert audit == KinesisEgressSpec(
        id=TypeName("shop", "audit"),
        aws_region=AwsRegion("specific", id="eu-west-1"),
        aws_credentials=AwsCredentials(
            "basic", access_key_id="AKIAEXAMPLE", secret_access_key="secret"
        ),
        max_outstanding_records=9999,
        source=audit.source,
    )
    assert playground_out.topics == ("greetings", "audit")

    (workflow,) = module.extensions
    assert workflow == ExtensionDocument(
        kind=TypeName("baton.workflows.v1", "workflow"),
        # plain data; YAML timestamps stay text, as Jackson reads them
        spec={
            "id": "shop/checkout",
            "steps": [{"call": "shop/cart", "timeout": "2020-01-01 10:00:00"}],
        },
        source=workflow.source,
    )
    assert type(workflow.spec) is dict


def test_legacy_v30_format():
    path = FIXTURES / "legacy_v30.yaml"
    module = load_module(path)
    (endpoint,) = module.endpoints
    assert endpoint.kind == "io.statefun.endpoints.v1/http"
    assert endpoint.transport == OkHttpTransportSpec(call=timedelta(minutes=2))
    assert endpoint.source == SourceLocation(str(path), 8)
    (ingress,) = module.ingresses
    assert ingress.kind == "io.statefun.kafka.v1/ingress"
    assert ingress.id == TypeName("example", "names")  # meta.id copied into the spec
    assert ingress.topics[0].targets == (TypeName("example", "person"),)
    (egress,) = module.egresses
    assert egress.kind == "io.statefun.kafka.v1/egress"
    assert egress.id == TypeName("example", "greets")
    assert egress.transaction_timeout == timedelta(milliseconds=100000)


def test_null_and_empty_documents_are_skipped():
    module = load_module_text(
        yaml("""
        ---
        ---
        kind: io.statefun.playground.v1/ingress
        spec: {port: 8090}
        ---
        ~
        ---
        """)
    )
    assert len(module.ingresses) == 1


def test_empty_file_loads_but_fails_the_application_check():
    with pytest.warns(ModuleWarning, match="no module documents"):
        module = load_module_text("# nothing here\n", "empty.yaml")
    assert module.endpoints == ()
    with pytest.raises(ModuleError, match="There are no function providers defined") as info:
        validate_application(module)
    assert info.value.file == "empty.yaml"


def test_no_ingress_is_fine_because_baton_has_its_own():
    module = load_module_text(
        yaml("""
        kind: io.statefun.endpoints.v2/http
        spec: {functions: example/*, urlPathTemplate: http://localhost:8000/statefun}
        """)
    )
    validate_application(module)


@pytest.mark.parametrize(
    ("pattern", "exact_name"),
    [("example/*", None), ("/*", None), ("/greeter", "greeter")],
)
def test_functions_patterns(pattern, exact_name):
    module = load_module_text(
        yaml(f"""
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: "{pattern}"
          urlPathTemplate: http://localhost:8000/statefun
        """)
    )
    assert module.endpoints[0].functions.name == exact_name


def test_exact_binding_beats_wildcard_and_namespaces_match_exactly():
    module = load_module([FIXTURES / "greeter.yaml", str(FIXTURES / "extra_functions.yaml")])
    wildcard, exact = module.endpoints
    assert module.files == (str(FIXTURES / "greeter.yaml"), str(FIXTURES / "extra_functions.yaml"))
    assert module.endpoint_for(TypeName("example", "greeter")) is exact
    assert module.endpoint_for(TypeName("example", "person")) is wildcard
    # no prefix matching: example/* does not serve example.sub/x
    assert module.endpoint_for(TypeName("example.sub", "x")) is None
    assert module.endpoint_for(TypeName("other", "greeter")) is None
    assert exact.source == SourceLocation(str(FIXTURES / "extra_functions.yaml"), 2)


def test_url_template_replaces_every_placeholder_and_nothing_else():
    module = load_module(FIXTURES / "all_kinds.yaml")
    endpoint = module.endpoint_for(TypeName("shop", "basket"))
    assert endpoint.functions.is_wildcard
    assert (
        endpoint.url_for(TypeName("shop", "basket"))
        == "https://functions.example.com:8443/basket/basket"
    )
    plain = load_module(FIXTURES / "greeter.yaml").endpoints[0]
    assert plain.url_for(TypeName("example", "person")) == "http://localhost:8000/statefun"


def v2(transport: str = "") -> str:
    return yaml("""
    kind: io.statefun.endpoints.v2/http
    spec:
      functions: example/*
      urlPathTemplate: http://localhost:8000/statefun
    """) + textwrap.indent(yaml(transport), "  ")


def test_transport_defaults():
    absent = load_module_text(v2()).endpoints[0].transport
    without_type = load_module_text(v2("transport: {call: 30s}")).endpoints[0].transport
    explicit_async = (
        load_module_text(v2("transport: {type: io.statefun.transports.v1/async}"))
        .endpoints[0]
        .transport
    )
    okhttp = (
        load_module_text(v2("transport: {type: io.statefun.transports.v1/okhttp}"))
        .endpoints[0]
        .transport
    )
    v1 = load_module_text(
        yaml("""
        kind: io.statefun.endpoints.v1/http
        spec: {functions: example/*, urlPathTemplate: http://localhost:8000/statefun}
        """)
    ).endpoints[0]

    # v2 without transport, or without `type`, is async: 2 min call, 20 s connect.
    assert absent == AsyncTransportSpec()
    assert (absent.call, absent.connect) == (timedelta(minutes=2), timedelta(seconds=20))
    assert without_type == AsyncTransportSpec(call=timedelta(seconds=30))
    assert explicit_async == AsyncTransportSpec()
    assert okhttp == OkHttpTransportSpec()
    assert v1.transport == OkHttpTransportSpec()
    assert (v1.transport.call, v1.transport.connect) == (
        timedelta(minutes=1),
        timedelta(seconds=10),
    )
    assert v1.max_num_batch_requests == 1000


def test_async_timeouts_block_wins_with_its_own_defaults():
    with pytest.warns(
        ModuleWarning, match="`call` is ignored because a `timeouts` block is present"
    ):
        transport = (
            load_module_text(
                v2("""
            transport:
              call: 5min
              timeouts:
                connect: 3s
            """)
            )
            .endpoints[0]
            .transport
        )
    assert transport == AsyncTransportSpec(call=timedelta(minutes=1), connect=timedelta(seconds=3))


def test_unknown_keys_are_accepted_with_a_warning_naming_the_line():
    text = yaml("""
    kind: io.statefun.endpoints.v2/http
    spec:
      functions: example/*
      urlPathTemplate: http://localhost:8000/statefun
      urlPathTemplte: http://typo
    """)
    with pytest.warns(ModuleWarning) as caught:
        module = load_module_text(text, "typo.yaml")
    assert len(module.endpoints) == 1
    (warning,) = [w for w in caught if issubclass(w.category, ModuleWarning)]
    message = str(warning.message)
    assert message.startswith("typo.yaml:5: spec.urlPathTemplte:")
    assert "Did you mean `urlPathTemplate`?" in message


def test_okhttp_keys_outside_timeouts_get_a_specific_hint():
    with pytest.warns(ModuleWarning, match="Put it under `timeouts:`"):
        load_module_text(
            v2("""
            transport:
              type: io.statefun.transports.v1/okhttp
              call: 30s
            """)
        )


def test_repeated_yaml_key_keeps_the_last_value_like_jackson():
    with pytest.warns(ModuleWarning, match="repeated"):
        module = load_module_text(
            yaml("""
            kind: io.statefun.playground.v1/ingress
            spec:
              port: 1
              port: 2
            """)
        )
    assert module.ingresses[0].port == 2


def test_jackson_coercions_for_v2_fields():
    module = load_module_text(
        yaml("""
        kind: io.statefun.endpoints.v2/http
        spec:
          functions: example/*
          urlPathTemplate: http://localhost:8000/statefun
          maxNumBatchRequests: "25"
        ---
        kind: io.statefun.kafka.v1/ingress
        spec:
          id: example/in
          address: kafka:9092
          consumerGroupId: 42
          topics: [{topic: 2024, valueType: example/T, targets: [example/f]}]
        """)
    )
    assert module.endpoints[0].max_num_batch_requests == 25
    kafka = module.ingresses[0]
    assert kafka.consumer_group_id == "42"
    assert kafka.topics[0].topic == "2024"


def test_strict_statefun_rejects_baton_extensions_only():
    text = (FIXTURES / "greeter.yaml").read_text() + yaml("""
    ---
    kind: baton.workflows.v1/workflow
    spec: {id: example/flow}
    """)
    assert len(load_module_text(text).extensions) == 1
    with pytest.raises(ModuleError, match="run `baton build` to strip it") as info:
        load_module_text(text, "app.yaml", strict_statefun=True)
    assert (info.value.file, info.value.line, info.value.field) == ("app.yaml", 20, "kind")


def test_a_module_error_pickles_with_its_location():
    import pickle

    error = ModuleError("boom", file="m.yaml", line=3, field="spec.port")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file, copy.line, copy.field, copy.message) == ("m.yaml", 3, "spec.port", "boom")
    assert str(copy) == "m.yaml:3: spec.port: boom"
    assert str(ModuleError("boom", file="m.yaml")) == "m.yaml: boom"
    assert str(ModuleError("boom")) == "boom"


def test_loading_emits_no_warnings_for_the_fixtures():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModuleWarning)
        for name in ("greeter.yaml", "all_kinds.yaml", "legacy_v30.yaml", "extra_functions.yaml"):
            load_module(FIXTURES / name)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (  # YAML merge keys are plain keys to Jackson
            """
            kind: io.statefun.playground.v1/ingress
            spec:
              <<: {port: 1}
              port: 8090
            """,
            3,
            "YAML merge keys are not supported by StateFun's YAML parser",
        ),
        (  # a stray top-level key that belongs in spec
            """
            kind: io.statefun.playground.v1/egress
            topics: [greetings]
            spec: {port: 8091, topics: [greetings]}
            """,
            2,
            "unknown key `topics` is ignored (StateFun ignores it too). Put it under `spec:`.",
        ),
        (  # StateFun reads one entry per properties item
            """
            kind: io.statefun.kafka.v1/egress
            spec:
              id: example/out
              address: kafka:9092
              properties:
                - acks: all
                  retries: 3
            """,
            6,
            "only `acks` is read from this item",
        ),
        (  # `us` is a baton convenience, not a Flink unit
            """
            kind: io.statefun.endpoints.v2/http
            spec:
              functions: example/*
              urlPathTemplate: http://localhost:8000/statefun
              transport: {call: 90000000us}
            """,
            5,
            "StateFun only accepts `µs` or `micros`",
        ),
        (  # a v1 endpoint has no `transport`
            """
            kind: io.statefun.endpoints.v1/http
            spec:
              functions: example/*
              urlPathTemplate: http://localhost:8000/statefun
              transport: {timeouts: {call: 1min}}
            """,
            5,
            "a v1 endpoint always uses OkHttp, with `timeouts:` directly under spec",
        ),
    ],
)
def test_accepted_with_a_specific_warning(text, line, fragment):
    with pytest.warns(ModuleWarning) as caught:
        load_module_text(yaml(text), "w.yaml")
    messages = [str(w.message) for w in caught if issubclass(w.category, ModuleWarning)]
    assert any(m.startswith(f"w.yaml:{line}: ") and fragment in m for m in messages), messages


def test_legacy_detection_hint_for_a_stray_version_key():
    with pytest.raises(ModuleError) as info:
        load_module_text(
            yaml("""
            version: "3.0"
            kind: io.statefun.playground.v1/ingress
            spec: {port: 8090}
            """)
        )
    assert "Unable to find a module type" in info.value.message
    assert "Or remove `version`" in info.value.message


def test_recursive_alias_is_an_error_not_a_crash():
    with pytest.raises(ModuleError, match="refers to itself") as info:
        load_module_text("kind: baton.x.v1/y\nspec: &a [*a]\n", "r.yaml")
    assert (info.value.line, info.value.field) == (2, "spec[0]")


def test_mutated_fixtures_only_ever_raise_module_errors():
    """Damaged files fail with a located ModuleError, never with an internal exception."""
    import random

    texts = [path.read_text() for path in sorted(FIXTURES.glob("*.yaml"))]
    values = ["~", "[]", "{}", "[1, 2]", "{a: b}", "0", "-1", "ten", "3.0", "true", "a/b/c", "x/*"]
    rng = random.Random(7)
    for _ in range(150):
        lines = rng.choice(texts).splitlines()
        j = rng.randrange(len(lines))
        if rng.random() < 0.3:
            del lines[j]
        elif ":" in lines[j]:
            lines[j] = f"{lines[j].partition(':')[0]}: {rng.choice(values)}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                load_module_text("\n".join(lines), "m.yaml")
            except ModuleError as error:
                assert error.file == "m.yaml"
                assert error.message
