"""`baton build`: render a module for a real StateFun cluster."""

from __future__ import annotations

from pathlib import Path

import click

from baton.module import ModuleError, load_module


@click.command()
@click.argument("module", default="module.yaml", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="build", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Where to write the build.")
@click.option("--interpreter-url", default="http://baton-workflows:8000/statefun", show_default=True,
              help="Where the cluster reaches the workflow interpreter (`baton serve`).")
def build(module: Path, out_dir: Path, interpreter_url: str) -> None:
    """Render MODULE for a real StateFun 3.3 cluster.

    Writes OUT/module/module.yaml (StateFun kinds only: mount it at
    /opt/statefun/modules/<app>/module.yaml) and, when the module has workflows,
    OUT/workflows/workflows.yaml for the interpreter.

    \b
    Example:
      baton build module.yaml --out build
      BATON_WORKFLOWS=build/workflows/workflows.yaml baton serve baton.workflows.app:functions
    """
    from baton.module.render import render

    path = module / "module.yaml" if module.is_dir() else module
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
