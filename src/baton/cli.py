"""The `baton` command line."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import click

from baton.module import ModuleError, load_module, validate_application


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (e.g. Windows)
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """baton: run Apache Flink StateFun applications in one Python process."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("module", default="module.yaml", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep state in this directory (SQLite); without it state lives in memory.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface for the ingress, egress and admin servers.")
@click.option("--admin-port", default=8081, show_default=True, type=int,
              help="Port of the admin HTTP API (0 picks a free port).")
@click.option("--lambda-endpoint-url", envvar="BATON_LAMBDA_ENDPOINT_URL", default=None,
              help="Where workflow tasks invoke Lambda (e.g. `baton lambda local`); default AWS.")
def run(module: Path, data_dir: Path | None, host: str, admin_port: int,
        lambda_endpoint_url: str | None) -> None:
    """Run the application described by MODULE (a module.yaml, or a directory holding one).

    \b
    Examples:
      baton run                        # ./module.yaml, state in memory
      baton run app/module.yaml --data-dir .baton
      curl localhost:8081/metrics      # counters per function type
    """
    try:
        spec = load_module(module)
        validate_application(spec)
    except ModuleError as error:
        raise click.ClickException(error.render_all()) from None
    _use_uvloop()
    asyncio.run(_run(spec, data_dir, host, admin_port, lambda_endpoint_url))


async def _run(
    spec, data_dir: Path | None, host: str, admin_port: int, lambda_endpoint_url: str | None
) -> None:
    from baton.runtime import Runtime
    from baton.runtime.sqlite_store import SqliteStore, StoreError
    from baton.runtime.store import MemoryStore, Store

    store: Store
    try:
        store = SqliteStore(data_dir) if data_dir is not None else MemoryStore()
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    try:
        runtime = Runtime(
            spec, store, host=host, admin_port=admin_port, lambda_endpoint_url=lambda_endpoint_url
        )
    except ModuleError as error:  # workflow documents are checked when the runtime is built
        store.close()
        raise click.ClickException(error.render_all()) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        listeners = await runtime.start()
    except OSError as error:
        await runtime.stop()
        raise click.ClickException(f"cannot listen: {error}") from None
    where = f"data in {store.path}" if isinstance(store, SqliteStore) else "state in memory"
    click.echo(f"baton: {len(spec.endpoints)} endpoint(s) from {', '.join(spec.files)}; {where}")
    for listener in listeners:
        click.echo(f"  {listener.component:<40} {listener.url}")
    sys.stdout.flush()
    await stop.wait()
    click.echo("baton: stopping")
    await runtime.stop()


@cli.command()
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
        (out_dir / "workflows" / "workflows.yaml").write_text(result.workflows_yaml)
        click.echo(
            f"wrote {out_dir / 'workflows' / 'workflows.yaml'} ({', '.join(result.workflow_ids)}); "
            f"serve it at {interpreter_url} with:\n  BATON_WORKFLOWS={out_dir / 'workflows' / 'workflows.yaml'} "
            "baton serve baton.workflows.app:functions --port 8000"
        )


def _register_commands() -> None:
    from baton.admin_commands import COMMANDS as admin_commands
    from baton.deploy.commands import deploy_group
    from baton.serve.commands import lambda_group, serve
    from baton.workflows.commands import workflows_group

    for command in admin_commands:
        cli.add_command(command)
    cli.add_command(deploy_group)
    cli.add_command(workflows_group)
    cli.add_command(serve)
    cli.add_command(lambda_group)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
