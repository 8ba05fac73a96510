"""`baton run`: the composition root of a running baton (runtime, store, workflow host)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from baton.aws.errors import AwsSetupError
from baton.module import ModuleError, load_module, validate_application
from baton.module.specs import ModuleSpec


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (e.g. Windows)
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


@click.command()
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
    spec: ModuleSpec, data_dir: Path | None, host: str, admin_port: int,
    lambda_endpoint_url: str | None,
) -> None:
    from baton.runtime import Runtime
    from baton.runtime.sqlite_store import SqliteStore, StoreError
    from baton.runtime.store import MemoryStore, Store
    from baton.workflows.host import workflow_host

    store: Store
    try:
        store = SqliteStore(data_dir) if data_dir is not None else MemoryStore()
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    try:  # workflow documents are checked when their host is built
        workflows = workflow_host(spec, host=host, lambda_endpoint_url=lambda_endpoint_url)
    except ModuleError as error:
        store.close()
        raise click.ClickException(error.render_all()) from None
    runtime = Runtime(spec, store, host=host, admin_port=admin_port, extensions=[workflows])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        listeners = await runtime.start()
    except OSError as error:
        await runtime.stop()
        raise click.ClickException(f"cannot listen: {error}") from None
    except AwsSetupError as error:  # a Kinesis connector without region or credentials
        await runtime.stop()
        raise click.ClickException(str(error)) from None
    where = f"data in {store.path}" if isinstance(store, SqliteStore) else "state in memory"
    click.echo(f"baton: {len(spec.endpoints)} endpoint(s) from {', '.join(spec.files)}; {where}")
    for listener in listeners:
        click.echo(f"  {listener.component:<40} {listener.url}")
    sys.stdout.flush()
    await stop.wait()
    click.echo("baton: stopping")
    await runtime.stop()
