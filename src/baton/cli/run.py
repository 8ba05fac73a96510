"""`baton run`: the composition root of a running baton (runtime, store, workflow host)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from statefun import StatefulFunctions

from baton.aws.errors import AwsSetupError
from baton.cli.endpoint_check import unreachable_endpoints
from baton.cli.heap import settle_heap
from baton.cli.logs import warn
from baton.module import ModuleError, load_module, validate_application
from baton.module.specs import ModuleSpec
from baton.serve.local import LocalFunctions

if TYPE_CHECKING:  # the runtime is imported when `run` runs, not for every `baton` command
    from baton.runtime.admin_guard import AdminSurface
    from baton.runtime.sqlite_store import Fsync


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
@click.option("--fsync", type=click.Choice(["normal", "full"]), default="normal", show_default=True,
              help="full: fsync every commit (SQLite synchronous=FULL), durable against OS "
              "crashes and power loss; normal: durable against process crashes.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface for the playground ingress and egress servers.")
@click.option("--admin-host", default="127.0.0.1", show_default=True,
              help="Interface for the admin API; beyond loopback only with --admin-token.")
@click.option("--admin-port", default=8081, show_default=True, type=int,
              help="Port of the admin HTTP API (0 picks a free port).")
@click.option("--admin-token", envvar="BATON_ADMIN_TOKEN", default=None,
              help="Bearer token the admin API requires (env BATON_ADMIN_TOKEN).")
@click.option("--idempotency-window", default=86_400.0, show_default=True, type=float,
              metavar="SECONDS", help="How long an Idempotency-Key is remembered.")
@click.option("--lambda-endpoint-url", envvar="BATON_LAMBDA_ENDPOINT_URL", default=None,
              help="Where workflow tasks invoke Lambda (e.g. `baton lambda local`); default AWS.")
@click.option("--serve", "serve_targets", multiple=True, metavar="MODULE:ATTR",
              help="Also serve these SDK functions (a statefun.StatefulFunctions) for the endpoints "
              "of their types, as `baton serve` would (repeatable; default: `serve` of "
              "[tool.baton.run] in pyproject.toml).")
def run(module: Path, data_dir: Path | None, fsync: Fsync, host: str, admin_host: str,
        admin_port: int, admin_token: str | None, idempotency_window: float,
        lambda_endpoint_url: str | None, serve_targets: tuple[str, ...]) -> None:
    """Run the application described by MODULE (a module.yaml, or a directory holding one).

    \b
    Examples:
      baton run                        # ./module.yaml, state in memory
      baton run app/module.yaml --data-dir .baton
      baton run --serve functions:functions   # and the SDK functions in functions.py
      open http://127.0.0.1:8081/      # the web console
      curl localhost:8081/metrics      # Prometheus metrics (JSON: /metrics.json)
      OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 baton run   # traces over OTLP
    """
    try:
        spec = load_module(module)
        validate_application(spec)
    except ModuleError as error:
        raise click.ClickException(error.render_all()) from None
    from baton.runtime.admin_guard import AdminSurface, UnsafeAdminBind

    try:
        admin = AdminSurface(admin_host, admin_token)
    except UnsafeAdminBind as error:
        raise click.BadParameter(str(error), param_hint="--admin-host") from None
    # Served on loopback whatever --host says: only this process calls them.
    local = [LocalFunctions(f, name=t) for t, f in _served_functions(module, serve_targets)]
    _use_uvloop()
    asyncio.run(_run(spec, data_dir, fsync, host, admin, idempotency_window, admin_port,
                     lambda_endpoint_url, local))


def _served_functions(module: Path, targets: tuple[str, ...]) -> list[tuple[str, StatefulFunctions]]:
    """The --serve targets, else `serve` of [tool.baton.run] in the project's pyproject.toml."""
    from baton.deploy.config import find_pyproject, read_pyproject
    from baton.deploy.errors import DeployError
    from baton.serve.targets import TargetError, load_functions

    where = "--serve"
    pyproject = find_pyproject((module if module.is_dir() else module.parent).resolve())
    if not targets and pyproject is not None:
        try:
            section = read_pyproject(pyproject).get("tool", {}).get("baton", {}).get("run", {})
        except DeployError as error:
            raise click.ClickException(str(error)) from None
        configured = section.get("serve", [])
        if isinstance(configured, str):
            configured = [configured]
        if not isinstance(configured, list) or not all(isinstance(t, str) for t in configured):
            raise click.ClickException(
                f"{pyproject}: [tool.baton.run] serve must be a list of MODULE:ATTR strings, "
                'e.g. serve = ["functions:functions"]'
            )
        targets, where = tuple(configured), f"{pyproject} [tool.baton.run] serve"
        if targets and str(pyproject.parent) not in sys.path:
            sys.path.insert(0, str(pyproject.parent))  # the project's modules, wherever we run
    try:
        return [(target, load_functions(target)) for target in targets]
    except TargetError as error:
        raise click.ClickException(f"{where}: {error}") from None


async def _run(
    spec: ModuleSpec, data_dir: Path | None, fsync: Fsync, host: str, admin: AdminSurface,
    idempotency_window_s: float, admin_port: int, lambda_endpoint_url: str | None,
    local: list[LocalFunctions],
) -> None:
    from baton.runtime import Runtime
    from baton.runtime.api import ConnectorError
    from baton.runtime.observability.tracing import tracer_provider_from_env
    from baton.runtime.sqlite_store import SqliteStore, StoreError
    from baton.runtime.store import MemoryStore, Store
    from baton.workflows.host import workflow_host

    store: Store
    try:
        store = SqliteStore(data_dir, fsync=fsync) if data_dir is not None else MemoryStore()
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    try:  # workflow documents are checked when their host is built
        workflows = workflow_host(spec, host=host, lambda_endpoint_url=lambda_endpoint_url)
    except ModuleError as error:
        store.close()
        raise click.ClickException(error.render_all()) from None
    runtime = Runtime(
        spec, store, host=host, admin_port=admin_port, admin_host=admin.host,
        admin_token=admin.token, idempotency_window_s=idempotency_window_s,
        extensions=[*local, workflows],
        tracer_provider=tracer_provider_from_env(),  # None (off) unless OTEL_* variables say so
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        listeners = await runtime.start()
    except OSError as error:
        await runtime.stop()
        raise click.ClickException(f"cannot listen: {error}") from None
    except (ConnectorError, AwsSetupError) as error:  # e.g. Kafka settings, Kinesis credentials
        await runtime.stop()
        raise click.ClickException(str(error)) from None
    where = f"data in {store.path}" if isinstance(store, SqliteStore) else "state in memory"
    click.echo(f"baton: {len(spec.endpoints)} endpoint(s) from {', '.join(spec.files)}; {where}")
    for listener in listeners:
        click.echo(f"  {listener.component:<40} {listener.url}")
    sys.stdout.flush()
    served = [t for functions in local for t in functions.types]
    for problem in await unreachable_endpoints(spec, served):
        warn(problem, "endpoint_unreachable")
    settle_heap()
    flow = None
    if logging.getLogger("baton.flow").isEnabledFor(logging.INFO):  # -v
        from baton.runtime.flow_log import log_flow

        flow = asyncio.create_task(log_flow(runtime))
    await stop.wait()
    if flow is not None:
        flow.cancel()
    click.echo("baton: stopping")
    await runtime.stop()
