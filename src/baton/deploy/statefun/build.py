"""`baton build --target k8s|compose`: every file a cluster deployment needs, from module.yaml.

The module renderer (`baton.module.render`) gives the StateFun-only module and the workflow
bundle, with endpoint URLs rewritten to the topology's in-cluster services; this adds the
Dockerfile of the function server image and the Kubernetes manifests and/or compose file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from baton.deploy.errors import DeployError
from baton.deploy.statefun.compose import compose_file
from baton.deploy.statefun.dockerfile import DOCKERIGNORE, PROJECT_FILES, dockerfile
from baton.deploy.statefun.flink_conf import flink_conf
from baton.deploy.statefun.kubernetes import manifests
from baton.deploy.statefun.topology import ClusterOptions, plan
from baton.module import load_module
from baton.module.kinds import WORKFLOW_KIND
from baton.module.render import render

TARGETS = ("k8s", "compose")


@dataclass(frozen=True, slots=True)
class ClusterBuild:
    files: dict[str, str]  # path relative to the build directory → text
    notes: tuple[str, ...]
    workflow_ids: tuple[str, ...]


def build_for_cluster(
    module_path: Path, out_dir: Path, targets: tuple[str, ...], options: ClusterOptions,
    context: Path | None = None,
) -> ClusterBuild:
    """Render module_path for the targets; ModuleError or DeployError says what is wrong.

    `context` is the function code's directory, the image's build context (default: the
    module's directory)."""
    module = load_module(module_path)  # the baton view must be valid first
    topology = plan(module, options, has_workflows=any(d.kind == WORKFLOW_KIND for d in module.extensions))
    interpreter_url = topology.interpreter.url if topology.interpreter else ""
    built = render(module_path, interpreter_url, topology.endpoint_urls)
    files = {"module/module.yaml": built.module_yaml}
    if built.workflows_yaml is not None:
        files["workflows/workflows.yaml"] = built.workflows_yaml
    files["Dockerfile"] = dockerfile(topology)
    files["Dockerfile.dockerignore"] = DOCKERIGNORE
    notes = list(topology.notes)
    app_dir = context or module_path.parent
    missing = [name for name in PROJECT_FILES if not (app_dir / name).is_file()]
    if missing:
        notes.append(
            f"the Dockerfile builds a uv project, but {app_dir} has no {' or '.join(missing)}: "
            "make the application a uv project that depends on baton (`uv init`, `uv add`, "
            "`uv lock`), or write your own image that runs the same `baton serve` commands."
        )
    for target in targets:
        if target == "k8s":
            for name, text in manifests(topology, built.module_yaml, built.workflows_yaml).items():
                files[f"k8s/{name}"] = text
        elif target == "compose":
            files["compose.yaml"] = compose_file(topology, out_dir, app_dir)
            if not topology.is_playground:
                files["flink-conf.yaml"] = flink_conf(topology)
        else:
            raise DeployError(f"unknown target {target!r}", f"use one of {', '.join(TARGETS)}")
    return ClusterBuild(files, tuple(notes), built.workflow_ids)
