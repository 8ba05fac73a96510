"""`baton serve` and `baton lambda local`: serve functions and Lambda handlers locally."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

__all__ = ["lambda_group", "serve"]


@click.command()
@click.argument("target", metavar="MODULE:ATTR")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free port).")
@click.option("--path", default="/statefun", show_default=True,
              help="URL path answering invocation batches.")
def serve(target: str, host: str, port: int, path: str) -> None:
    """Serve the statefun.StatefulFunctions at MODULE:ATTR over HTTP (for development).

    MODULE is imported with the current directory first on the Python path, like `python -m`.
    Point an endpoint's urlPathTemplate at the printed URL.

    \b
    Example:
      baton serve functions.app:functions --port 8000
    """
    from baton.serve.targets import TargetError, function_types, load_functions

    if not path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--path")
    try:
        functions = load_functions(target)
    except TargetError as error:
        raise click.ClickException(str(error)) from None
    types = function_types(functions)
    if not types:
        click.echo(f"baton serve: warning: {target} has no functions bound", err=True)
    asyncio.run(_serve(functions, types, host, port, path))


async def _serve(functions, types: list[str], host: str, port: int, path: str) -> None:
    from baton.cli.heap import settle_heap
    from baton.serve.http import serve_functions, stop_signalled

    try:
        server, url = await serve_functions(functions, host, port, path)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
    click.echo(f"baton serve: {len(types)} function type(s) on {url}")
    for typename in types:
        click.echo(f"  {typename}")
    sys.stdout.flush()
    settle_heap()
    await stop_signalled()
    click.echo("baton serve: stopping")
    await server.close()


@click.group(name="lambda")
def lambda_group() -> None:
    """Run Lambda handlers locally."""


@lambda_group.command(name="local")
@click.option("--function", "-f", "function_options", multiple=True, required=True,
              metavar="NAME=MODULE:HANDLER",
              help="A Lambda function NAME served by handler MODULE:HANDLER (repeatable).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface of the Invoke API.")
@click.option("--port", default=3001, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the Invoke API (0 picks a free port).")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Runtime processes per function (invocations queue beyond that).")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Function timeout in seconds (the runtime is restarted after a timeout).")
@click.option("--memory", "memory_mb", default=128, show_default=True, type=click.IntRange(128),
              help="AWS_LAMBDA_FUNCTION_MEMORY_SIZE reported to handlers (not enforced).")
@click.option("--task-root", default=".", show_default=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory handler modules are imported from (LAMBDA_TASK_ROOT).")
@click.option("--region", default=None, help="Region in function ARNs and AWS_REGION "
              "[default: $AWS_REGION, else us-east-1].")
def lambda_local(function_options: tuple[str, ...], host: str, port: int, concurrency: int,
                 timeout: float, memory_mb: int, task_root: Path, region: str | None) -> None:
    """Serve Lambda handlers on this machine behind the Lambda Invoke API (no Docker).

    Each handler runs in AWS's runtime interface client (awslambdaric) against a local Lambda
    Runtime API, as deployed. Call it with any AWS SDK using the printed endpoint URL.

    \b
    Example:
      baton lambda local --function greeter=app:handler --port 3001
      aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name greeter out.json
    """
    from baton.serve.lambda_local import LambdaLocal, parse_function_option, run_forever

    functions: dict[str, str] = {}
    for option in function_options:
        try:
            name, handler = parse_function_option(option)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--function") from None
        if name in functions:
            raise click.BadParameter(f"function {name!r} given twice", param_hint="--function")
        functions[name] = handler

    def echo_output(name: str, line: str) -> None:
        click.echo(f"[{name}] {line}")

    def ready(local: LambdaLocal) -> None:
        click.echo(f"baton lambda local: Invoke API on {local.url} "
                   f"({len(functions)} function(s), concurrency {concurrency})")
        width = max(len(name) for name in functions)
        for name, status in local.status().items():
            click.echo(f"  {name:<{width}}  {functions[name]:<30}  {status}")
        sys.stdout.flush()

    local = LambdaLocal(functions, host=host, port=port, concurrency=concurrency,
                        timeout=timeout, memory_mb=memory_mb, task_root=task_root,
                        region=region, output=echo_output)
    try:
        run_forever(local, ready)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None

