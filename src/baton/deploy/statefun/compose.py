"""A compose file for a laptop-sized cluster: the same topology as the Kubernetes manifests.

Written at the root of the build directory, so its paths are `./module/module.yaml`,
`./flink-conf.yaml`, `./workflows/workflows.yaml` and the Dockerfile beside it; the function
image is built from the application directory. Published ports bind 127.0.0.1 only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from baton.deploy.statefun.flink_conf import CHECKPOINT_DIR
from baton.deploy.statefun.manifest_yaml import dump_all
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


def compose_file(topology: Topology, out_dir: Path, app_dir: Path) -> str:
    """The compose.yaml text for a build written to `out_dir` from an application in `app_dir`."""
    context = os.path.relpath(app_dir.resolve(), out_dir.resolve())
    dockerfile = os.path.relpath((out_dir / "Dockerfile").resolve(), app_dir.resolve())
    services: dict[str, Any] = {}
    for server in topology.all_servers:
        services[server.name] = _server(topology, server, context, dockerfile)
    servers = [s.name for s in topology.all_servers] + ([KAFKA] if topology.options.kafka else [])
    module = "./module/module.yaml"
    if topology.is_playground:
        services["statefun"] = {
            "image": topology.options.playground_image,
            "ports": [f"127.0.0.1:{port}:{port}" for port in topology.playground_ports],
            "volumes": [f"{module}:/module.yaml:ro"],
            "depends_on": servers,
        }
    else:
        volumes = [f"{module}:/opt/statefun/modules/{topology.options.app}/module.yaml:ro",
                   "./flink-conf.yaml:/opt/flink/conf/flink-conf.yaml:ro"]
        if topology.options.checkpoints.startswith("file://"):
            volumes.append(f"checkpoints:{CHECKPOINT_DIR}")
        services[MASTER] = {
            "image": topology.options.statefun_image,
            "environment": {"ROLE": "master", "MASTER_HOST": MASTER},
            "ports": ["127.0.0.1:8081:8081"],  # the Flink web UI
            "volumes": volumes,
            "depends_on": servers,
        }
        services[WORKER] = {
            "image": topology.options.statefun_image,
            "environment": {"ROLE": "worker", "MASTER_HOST": MASTER},
            "volumes": list(volumes),  # a copy: no YAML anchors in the file
            "depends_on": [MASTER],
            "deploy": {"replicas": topology.options.workers},
        }
    if topology.options.kafka:
        services[KAFKA] = {"image": KAFKA_IMAGE, "environment": dict(KAFKA_ENV),
                           "ports": ["127.0.0.1:9092:9092"]}
    document: dict[str, Any] = {"name": topology.options.app, "services": services}
    if not topology.is_playground and topology.options.checkpoints.startswith("file://"):
        document["volumes"] = {"checkpoints": {}}
    return dump_all([document])


def _server(topology: Topology, server: FunctionServer, context: str, dockerfile: str) -> dict:
    service: dict[str, Any] = {
        "image": topology.options.image,
        "command": server.command,
    }
    # Each baton-served service can build the one image (a rebuild is a cache hit).
    service["build"] = {"context": context, "dockerfile": dockerfile}
    service["deploy"] = {"replicas": server.replicas}
    if server is topology.interpreter:
        service["environment"] = dict(server.env)
        service["volumes"] = [f"./workflows/workflows.yaml:{WORKFLOWS_PATH}:ro"]
    return service
