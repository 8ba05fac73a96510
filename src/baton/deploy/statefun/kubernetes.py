"""Kubernetes manifests for a topology: one file per part, applied with `kubectl apply -f k8s/`.

- `statefun.yaml`: flink-conf and module.yaml as ConfigMaps (the module mounted at
  /opt/statefun/modules/<app>/), the master (Deployment + Service) and the workers, and a
  ReadWriteMany volume for file:// checkpoints — or, for a playground module, the one
  playground process.
- `functions.yaml`: each function server as a Deployment + Service.
- `workflows.yaml`: the bundle as a ConfigMap and the interpreter served the same way.
- `kafka.yaml` (--kafka): a single-node KRaft broker.

Everything is ClusterIP: nothing is reachable from outside the cluster unless the user exposes it
(`kubectl port-forward svc/statefun-master 8081` for the Flink UI).
"""

from __future__ import annotations

from typing import Any

from baton.deploy.statefun.flink_conf import (
    CHECKPOINT_DIR,
    LOG4J_CONSOLE,
    MASTER_MEMORY,
    WORKER_MEMORY,
    flink_conf,
)
from baton.deploy.statefun.manifest_yaml import dump_all, literal
from baton.deploy.statefun.topology import (
    KAFKA,
    KAFKA_ENV,
    KAFKA_IMAGE,
    MASTER,
    WORKER,
    WORKFLOWS_PATH,
    FunctionServer,
    Topology,
)

Manifest = dict[str, Any]


def manifests(topology: Topology, module_yaml: str, workflows_yaml: str | None) -> dict[str, str]:
    """{file name: YAML text} for the k8s/ directory."""
    files = {"statefun.yaml": dump_all(_statefun(topology, module_yaml))}
    if topology.servers:
        files["functions.yaml"] = dump_all(
            [m for server in topology.servers for m in _server(topology, server)]
        )
    if topology.interpreter is not None and workflows_yaml is not None:
        bundle = _config_map(topology, f"{topology.options.app}-workflows",
                             {"workflows.yaml": workflows_yaml})
        files["workflows.yaml"] = dump_all([bundle, *_server(topology, topology.interpreter)])
    if topology.options.kafka:
        files["kafka.yaml"] = dump_all(_kafka(topology))
    return files


def _labels(topology: Topology, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/part-of": topology.options.app,
            "app.kubernetes.io/component": component}


def _metadata(topology: Topology, name: str, component: str) -> dict[str, Any]:
    return {"name": name, "labels": _labels(topology, component)}


def _config_map(topology: Topology, name: str, data: dict[str, str]) -> Manifest:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(topology, name, "config"),
            "data": {key: literal(value) for key, value in data.items()}}


def _service(topology: Topology, name: str, component: str, ports: dict[str, int]) -> Manifest:
    return {
        "apiVersion": "v1", "kind": "Service", "metadata": _metadata(topology, name, component),
        "spec": {"type": "ClusterIP", "selector": _labels(topology, component),
                 "ports": [{"name": n, "port": p, "targetPort": p} for n, p in ports.items()]},
    }


def _deployment(topology: Topology, name: str, component: str, replicas: int,
                container: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> Manifest:
    pod: dict[str, Any] = {"containers": [container]}
    if volumes:
        pod["volumes"] = volumes
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _metadata(topology, name, component),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _labels(topology, component)},
            "template": {"metadata": {"labels": _labels(topology, component)}, "spec": pod},
        },
    }


def _ports(ports: dict[str, int]) -> list[dict[str, Any]]:
    return [{"name": name, "containerPort": port} for name, port in ports.items()]


def _statefun(topology: Topology, module_yaml: str) -> list[Manifest]:
    app = topology.options.app
    module = _config_map(topology, f"{app}-module", {"module.yaml": module_yaml})
    if topology.is_playground:
        return [module, *_playground(topology)]
    config = _config_map(topology, f"{app}-flink-config", {
        "flink-conf.yaml": flink_conf(topology), "log4j-console.properties": LOG4J_CONSOLE,
    })
    volumes = [
        {"name": "flink-config", "configMap": {"name": f"{app}-flink-config"}},
        {"name": "module", "configMap": {"name": f"{app}-module"}},
    ]
    mounts = [{"name": "flink-config", "mountPath": "/opt/flink/conf"},
              {"name": "module", "mountPath": f"/opt/statefun/modules/{app}"}]
    claim = None
    if topology.options.checkpoints.startswith("file://"):
        claim = {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": _metadata(topology, f"{app}-checkpoints", "checkpoints"),
            # Every worker writes its part of a checkpoint and the master reads them all.
            "spec": {"accessModes": ["ReadWriteMany"],
                     "resources": {"requests": {"storage": "10Gi"}}},
        }
        volumes.append({"name": "checkpoints",
                        "persistentVolumeClaim": {"claimName": f"{app}-checkpoints"}})
        mounts.append({"name": "checkpoints", "mountPath": CHECKPOINT_DIR})

    def container(role: str, ports: dict[str, int], memory: str) -> dict[str, Any]:
        return {
            "name": role, "image": topology.options.statefun_image,
            "env": [{"name": "ROLE", "value": role}, {"name": "MASTER_HOST", "value": MASTER}],
            "ports": _ports(ports),
            "resources": {"requests": {"memory": memory}, "limits": {"memory": memory}},
            "livenessProbe": {"tcpSocket": {"port": next(iter(ports.values()))},
                              "initialDelaySeconds": 30, "periodSeconds": 60},
            "volumeMounts": mounts,
        }

    master_ports = {"rpc": 6123, "blob": 6124, "ui": 8081}
    return [
        config, module, *([claim] if claim else []),
        _service(topology, MASTER, "master", master_ports),
        _deployment(topology, MASTER, "master", 1,
                    container("master", master_ports, MASTER_MEMORY[1]), volumes),
        _deployment(topology, WORKER, "worker", topology.options.workers,
                    container("worker", {"rpc": 6122}, WORKER_MEMORY[1]), volumes),
    ]


def _playground(topology: Topology) -> list[Manifest]:
    app = topology.options.app
    ports = {f"io-{port}": port for port in topology.playground_ports}
    container = {
        "name": "statefun", "image": topology.options.playground_image,
        "ports": _ports(ports),
        "volumeMounts": [{"name": "module", "mountPath": "/module.yaml", "subPath": "module.yaml"}],
    }
    volumes = [{"name": "module", "configMap": {"name": f"{app}-module"}}]
    return [_service(topology, "statefun", "statefun", ports),
            _deployment(topology, "statefun", "statefun", 1, container, volumes)]


def _server(topology: Topology, server: FunctionServer) -> list[Manifest]:
    container: dict[str, Any] = {
        "name": "functions", "image": topology.options.image,
        "command": server.command,
        "ports": _ports({"http": server.port}),
        "readinessProbe": {"tcpSocket": {"port": server.port}, "periodSeconds": 5},
    }
    volumes = None
    if server.env:
        container["env"] = [{"name": k, "value": v} for k, v in server.env]
    if topology.interpreter is server:
        container["volumeMounts"] = [{"name": "workflows",
                                      "mountPath": WORKFLOWS_PATH.rpartition("/")[0]}]
        volumes = [{"name": "workflows",
                    "configMap": {"name": f"{topology.options.app}-workflows"}}]
    return [_service(topology, server.name, server.name, {"http": server.port}),
            _deployment(topology, server.name, server.name, server.replicas, container, volumes)]


def _kafka(topology: Topology) -> list[Manifest]:
    container = {"name": KAFKA, "image": KAFKA_IMAGE, "ports": _ports({"kafka": 9092}),
                 "env": [{"name": k, "value": v} for k, v in KAFKA_ENV.items()]}
    return [_service(topology, KAFKA, KAFKA, {"kafka": 9092}),
            _deployment(topology, KAFKA, KAFKA, 1, container)]
