"""`baton build`: render a module for a real StateFun cluster (and, with --target, deploy files)."""

from __future__ import annotations

from pathlib import Path

import click

from baton.deploy.statefun.topology import STATEFUN_IMAGE, ClusterOptions
from baton.module import ModuleError, load_module

_DEFAULT_INTERPRETER_URL = "http://baton-workflows:8000/statefun"


@click.command()
@click.argument("module", default="module.yaml", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="build", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where to write the build.")
@click.option("--target", "targets", multiple=True, type=click.Choice(["k8s", "compose"]),
              help="Also render a deployment: Kubernetes manifests (OUT/k8s/) and/or a compose "
                   "file (OUT/compose.yaml), plus the function server's Dockerfile. Repeatable.")
@click.option("--serve", "serve", multiple=True, metavar="[SERVICE=]MODULE:ATTR",
              help="What each function server runs with `baton serve` (one value: all of them).")
@click.option("--app", default="app", show_default=True,
              help="Application name: module directory, ConfigMaps, Flink job, compose project.")
@click.option("--image", default="baton-app:latest", show_default=True,
              help="Image of the function servers and the workflow interpreter.")
@click.option("--statefun-image", default=STATEFUN_IMAGE, show_default=True, help="StateFun image.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1),
              help="StateFun workers (TaskManagers, one slot each: the job's parallelism).")
@click.option("--function-replicas", default=2, show_default=True, type=click.IntRange(1),
              help="Replicas of each function server.")
@click.option("--workflow-replicas", default=1, show_default=True, type=click.IntRange(1),
              help="Replicas of the workflow interpreter.")
@click.option("--checkpoints", default="file:///checkpoint-dir", show_default=True,
              help="Flink checkpoint directory: file:// (a shared volume is rendered) or s3://.")
@click.option("--context", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The function code's directory: the image's build context [MODULE's directory].")
@click.option("--kafka", is_flag=True, help="Also deploy a single-node Kafka broker (kafka:9092).")
@click.option("--interpreter-url", default=_DEFAULT_INTERPRETER_URL, show_default=True,
              help="Without --target: where the cluster reaches the workflow interpreter.")
def build(module: Path, out_dir: Path, targets: tuple[str, ...], serve: tuple[str, ...], app: str,
          image: str, statefun_image: str, workers: int, function_replicas: int,
          workflow_replicas: int, checkpoints: str, context: Path | None, kafka: bool,
          interpreter_url: str) -> None:
    """Render MODULE for a real StateFun 3.3 cluster.

    Writes OUT/module/module.yaml (StateFun kinds only: mount it at
    /opt/statefun/modules/<app>/module.yaml) and, when the module has workflows,
    OUT/workflows/workflows.yaml for the interpreter. With --target, endpoints on this machine
    become in-cluster services and the deployment files are written too.

    \b
    Examples:
      baton build module.yaml --out build
      BATON_WORKFLOWS=build/workflows/workflows.yaml baton serve baton.workflows.app:functions
      baton build --target k8s --target compose --serve functions.app:functions --app orders
      kubectl apply -f build/k8s/        # or: docker compose -f build/compose.yaml up --build
    """
    path = module / "module.yaml" if module.is_dir() else module
    if targets:
        options = ClusterOptions(
            app=app, image=image, statefun_image=statefun_image, workers=workers,
            function_replicas=function_replicas, workflow_replicas=workflow_replicas,
            serve=_serve_targets(serve), checkpoints=checkpoints, kafka=kafka,
        )
        _build_cluster(path, out_dir, tuple(dict.fromkeys(targets)), options, context)
        return
    from baton.module.render import render

    try:
        load_module(path)  # the baton view must be valid first
        result = render(path, interpreter_url)
    except ModuleError as error:
        raise click.ClickException(error.render_all()) from None
    (out_dir / "module").mkdir(parents=True, exist_ok=True)
    (out_dir / "module" / "module.yaml").write_text(result.module_yaml)
    click.echo(f"wrote {out_dir / 'module' / 'module.yaml'} (StateFun 3.3 kinds only)")
    if result.workflows_yaml is not None:
        (out_dir / "workflows").mkdir(parents=True, exist_ok=True)
        bundle = out_dir / "workflows" / "workflows.yaml"
        bundle.write_text(result.workflows_yaml)
        click.echo(
            f"wrote {bundle} ({', '.join(result.workflow_ids)}); "
            f"serve it at {interpreter_url} with:\n  BATON_WORKFLOWS={bundle} "
            "baton serve baton.workflows.app:functions --port 8000"
        )


def _serve_targets(values: tuple[str, ...]) -> dict[str, str]:
    """`--serve [SERVICE=]MODULE:ATTR` values → {service or "": MODULE:ATTR}."""
    targets: dict[str, str] = {}
    for value in values:
        name, _, target = value.rpartition("=")
        if ":" not in target:
            raise click.BadParameter(f"{value!r}: expected [SERVICE=]MODULE:ATTR",
                                     param_hint="--serve")
        targets[name] = target
    return targets


def _build_cluster(path: Path, out_dir: Path, targets: tuple[str, ...], options: ClusterOptions,
                   context: Path | None) -> None:
    from baton.deploy.errors import DeployError
    from baton.deploy.statefun.build import build_for_cluster

    try:
        result = build_for_cluster(path, out_dir, targets, options, context)
    except ModuleError as error:
        raise click.ClickException(error.render_all()) from None
    except DeployError as error:
        raise click.ClickException(error.render()) from None
    for name, text in result.files.items():
        written = out_dir / name
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(text)
        click.echo(f"wrote {written}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"next: docker build -f {out_dir / 'Dockerfile'} -t {options.image} "
               f"{context or path.parent}")
    if "k8s" in targets:
        click.echo(f"      kubectl apply -f {out_dir / 'k8s'}")
    if "compose" in targets:
        click.echo(f"      docker compose -f {out_dir / 'compose.yaml'} up --build")
