"""What runs where when a module goes to a real StateFun cluster: the deployment's topology.

From the loaded module and the user's options: which function servers the cluster calls (one per
host:port of the module's local HTTP endpoints, renamed to in-cluster service URLs), whether the
workflow interpreter runs, what the StateFun side is (a master plus workers from the official
image, or the single-process playground image when the module uses the playground ingress or
egress, which only that image has), and optionally a Kafka broker. The Kubernetes and compose
renderers only lay this out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from baton.deploy.errors import DeployError
from baton.module.kinds import PLAYGROUND_EGRESS, PLAYGROUND_INGRESS
from baton.module.specs import (
    FailureMode,
    HttpEndpointSpec,
    KafkaEgressSpec,
    KafkaIngressSpec,
    ModuleSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
)

STATEFUN_IMAGE = "apache/flink-statefun:3.3.0"
# The only image with io.statefun.playground.v1/ingress and /egress (one process, no cluster).
PLAYGROUND_IMAGE = "apache/flink-statefun-playground:3.3.0-1.0"
KAFKA_IMAGE = "apache/kafka:3.9.0"
FUNCTION_PORT = 8000
INTERPRETER = "baton-workflows"
INTERPRETER_TARGET = "baton.workflows.app:functions"
WORKFLOWS_PATH = "/etc/baton/workflows/workflows.yaml"  # where the bundle is mounted
MASTER = "statefun-master"  # also jobmanager.rpc.address and the workers' MASTER_HOST
WORKER = "statefun-worker"
KAFKA = "kafka"
# A single-node KRaft broker, reachable in the cluster as kafka:9092.
KAFKA_ENV = {
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
    "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{KAFKA}:9092",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
}
_LOCAL_HOSTS = ("localhost", "0.0.0.0", "::1")


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """What the user chooses on `baton build --target k8s|compose`."""

    app: str = "app"  # names the module directory, ConfigMaps, the Flink job and the compose project
    image: str = "baton-app:latest"  # the function server image (Dockerfile rendered beside)
    statefun_image: str = STATEFUN_IMAGE
    playground_image: str = PLAYGROUND_IMAGE
    workers: int = 2  # StateFun TaskManagers, one slot each: the job's parallelism
    function_replicas: int = 2
    workflow_replicas: int = 1
    serve: dict[str, str] = field(default_factory=dict)  # server name (or "") → MODULE:ATTR
    checkpoints: str = "file:///checkpoint-dir"
    checkpoint_interval: str = "10sec"
    kafka: bool = False


@dataclass(frozen=True, slots=True)
class FunctionServer:
    """A Deployment + Service running `baton serve TARGET` (function code or the interpreter)."""

    name: str
    port: int
    path: str
    target: str
    replicas: int
    functions: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        return f"http://{self.name}:{self.port}{self.path}"

    @property
    def command(self) -> list[str]:
        return ["baton", "serve", self.target, "--host", "0.0.0.0", "--port", str(self.port),
                "--path", self.path]


@dataclass(frozen=True, slots=True)
class Topology:
    options: ClusterOptions
    servers: tuple[FunctionServer, ...]  # the application's function servers
    interpreter: FunctionServer | None  # the workflow interpreter, when the module has workflows
    playground_ports: tuple[int, ...]  # non-empty: the StateFun side is the playground image
    endpoint_urls: dict[str, str]  # urlPathTemplate → in-cluster urlPathTemplate
    notes: tuple[str, ...]  # what the user should know, printed by `baton build`

    @property
    def all_servers(self) -> tuple[FunctionServer, ...]:
        return self.servers + ((self.interpreter,) if self.interpreter else ())

    @property
    def is_playground(self) -> bool:
        return bool(self.playground_ports)


def plan(module: ModuleSpec, options: ClusterOptions, *, has_workflows: bool) -> Topology:
    """The deployment for `module`; a DeployError says what cannot go to a cluster and why."""
    if not re.fullmatch(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", options.app):
        raise DeployError(
            f"--app {options.app!r} is not a usable name",
            "use lower-case letters, digits and '-', starting with a letter (it names Kubernetes "
            "objects and the module directory /opt/statefun/modules/<app>)",
        )
    notes: list[str] = []
    groups: dict[tuple[str, int], list[HttpEndpointSpec]] = {}
    for endpoint in module.endpoints:
        if not isinstance(endpoint, HttpEndpointSpec):
            continue  # baton-only endpoint kinds are refused by the module renderer
        if endpoint.failure_mode is FailureMode.DROP:
            notes.append(
                f"{endpoint.source or endpoint.functions}: failureMode DROP is honoured by the "
                f"fransking fork; {STATEFUN_IMAGE} ignores it and restarts the job when a call "
                "fails for good."
            )
        local = _local_host_port(endpoint.url_path_template)
        if local is None:
            notes.append(f"{endpoint.functions}: {endpoint.url_path_template} is outside the "
                         "cluster; left as it is.")
            continue
        groups.setdefault(local, []).append(endpoint)
    servers = _servers(groups, options)
    urls = {
        endpoint.url_path_template: _in_cluster(endpoint.url_path_template, server)
        for server, endpoints in zip(servers, groups.values(), strict=True)
        for endpoint in endpoints
    }
    interpreter = None
    if has_workflows:
        interpreter = FunctionServer(
            INTERPRETER, FUNCTION_PORT, "/statefun", INTERPRETER_TARGET,
            options.workflow_replicas, (), (("BATON_WORKFLOWS", WORKFLOWS_PATH),),
        )
        if any(server.name == INTERPRETER for server in servers):
            raise DeployError(f"a function server is already called {INTERPRETER}",
                              "rename its host in urlPathTemplate")
    playground = tuple(
        io.port for io in (*module.ingresses, *module.egresses)
        if isinstance(io, PlaygroundIngressSpec | PlaygroundEgressSpec)
    )
    if playground:
        if 0 in playground:
            raise DeployError("a playground ingress or egress has `port: 0` (baton only)",
                              "give it a fixed port, e.g. 8090 for the ingress, 8091 for the egress")
        notes.append(
            f"{PLAYGROUND_INGRESS} and {PLAYGROUND_EGRESS} exist only in the single-process "
            f"playground image ({options.playground_image}), so the StateFun side runs as one "
            "process: right for a laptop, not a scale-out. To scale out, replace them with "
            "io.statefun.kafka.v1/ingress (topics routed to function types) and "
            "io.statefun.kafka.v1/egress, have the functions emit kafka_egress_message(...) "
            "records instead of playground EgressRecords, and build again: the StateFun side "
            f"becomes a master and {options.workers} workers."
        )
    kafka_addresses = {
        io.address for io in (*module.ingresses, *module.egresses)
        if isinstance(io, KafkaIngressSpec | KafkaEgressSpec)
    }
    if kafka_addresses and not options.kafka:
        notes.append(f"the module reads or writes Kafka at {', '.join(sorted(kafka_addresses))}; "
                     f"--kafka deploys a single-node broker reachable as {KAFKA}:9092.")
    return Topology(options, servers, interpreter, playground, urls, tuple(notes))


def _local_host_port(template: str) -> tuple[str, int] | None:
    """(host, port) of an endpoint the cluster should run itself: plain http on this machine
    (localhost, 127.x) or on a bare service name; None for anything else (e.g. a Lambda URL)."""
    parts = urlsplit(template.replace("{function.name}", "fn"))
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "http" or not host:
        return None
    if host in _LOCAL_HOSTS or host.startswith("127.") or "." not in host:
        return host, parts.port or 80
    return None


def _servers(
    groups: dict[tuple[str, int], list[HttpEndpointSpec]], options: ClusterOptions
) -> tuple[FunctionServer, ...]:
    names: list[str] = []
    for host, port in groups:
        local = host in _LOCAL_HOSTS or host.startswith("127.")
        name = _service_name(f"{groups[host, port][0].functions.namespace}-functions"
                             if local else host)
        names.append(_service_name(f"{name}-{port}") if name in names else name)
    unknown = set(options.serve) - {"", *names}
    if unknown:
        raise DeployError(
            f"--serve names {', '.join(sorted(unknown))}, which no endpoint calls",
            f"the function servers are: {', '.join(names) or 'none'}",
        )
    servers = []
    for name, ((host, port), endpoints) in zip(names, groups.items(), strict=True):
        paths = {urlsplit(e.url_path_template).path or "/" for e in endpoints}
        patterns = tuple(str(e.functions) for e in endpoints)
        if len(paths) > 1 or any("{function.name}" in p for p in paths):
            raise DeployError(
                f"the endpoints {', '.join(patterns)} call {host}:{port} on "
                f"{' and '.join(sorted(paths))}; `baton serve` answers one fixed path",
                "point them at one path, e.g. http://127.0.0.1:8000/statefun (the SDK dispatches "
                "on the function type in each request)",
            )
        target = options.serve.get(name) or options.serve.get("")
        if not target:
            raise DeployError(
                f"which MODULE:ATTR serves {', '.join(patterns)} (service {name})?",
                f"pass --serve MODULE:ATTR for every server, or --serve {name}=MODULE:ATTR, e.g. "
                "--serve functions.app:functions",
            )
        servers.append(FunctionServer(name, port, paths.pop(), target, options.function_replicas,
                                      patterns))
    return tuple(servers)


def _service_name(text: str) -> str:
    """A DNS-1035 label (what Kubernetes Service names must be)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"fn-{name}"
    return name[:63].rstrip("-")


def _in_cluster(template: str, server: FunctionServer) -> str:
    parts = urlsplit(template)
    return urlunsplit(("http", f"{server.name}:{server.port}", parts.path, parts.query,
                       parts.fragment))
