"""`baton deploy lambda` and `baton deploy package` (the planning and packaging live in baton.deploy)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from baton.deploy.config import ARCHITECTURES, AUTH_TYPES, INVOKE_MODES, SECTION, load_settings
from baton.deploy.errors import DeployError

_ACTION_STYLE = {"create": "green", "update": "yellow", "unchanged": "dim"}
_DONE = {"create": "created", "update": "updated", "unchanged": "unchanged"}
_PLANNED = {"create": "would create", "update": "would update", "unchanged": "unchanged"}


@click.group(name="deploy")
def deploy_group() -> None:
    """Deploy functions (AWS Lambda)."""


def _package_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--project", type=click.Path(file_okay=False, path_type=Path),
                     help=f"Project directory whose pyproject.toml {SECTION} is read "
                          "(default: the nearest pyproject.toml upward)."),
        click.option("--name", help="Lambda function name (default: [project] name)."),
        click.option("--handler", help="Handler as module.attr, e.g. orders.app.handler."),
        click.option("--source", multiple=True, type=click.Path(path_type=Path),
                     help="Package directory or module file to ship (repeatable; default: "
                          "the handler's top-level package)."),
        click.option("--architecture", type=click.Choice(ARCHITECTURES),
                     help="Instruction set (default x86_64)."),
        click.option("--python", "python", help="Python version of the runtime (default 3.12)."),
        click.option("--requirement", "requirements", multiple=True,
                     help="Another dependency to ship (repeatable), beside the StateFun SDK "
                          "and protobuf."),
        click.option("--include-baton/--no-include-baton", default=None,
                     help="Ship baton's own package for baton.serve handlers (default: yes)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _flags(options: dict[str, Any]) -> dict[str, Any]:
    keys = {"name": "name", "handler": "handler", "source": "source", "architecture":
            "architecture", "python": "python", "requirements": "requirements",
            "include_baton": "include-baton", "functions": "functions", "region": "region",
            "memory": "memory", "timeout": "timeout", "role": "role", "alias": "alias",
            "auth": "auth", "invoke": "invoke", "s3_bucket": "s3-bucket"}
    flags = {}
    for option, key in keys.items():
        value = options.get(option)
        if isinstance(value, tuple):
            value = list(value)
        flags[key] = value
    return flags


@deploy_group.command(name="lambda")
@_package_options
@click.option("--functions", help="StateFun functions it serves, e.g. 'orders/*'.")
@click.option("--region", help="AWS region (default: the AWS chain's, e.g. AWS_REGION).")
@click.option("--memory", type=int, help="Memory in MB, 128..10240 (default 512).")
@click.option("--timeout", type=int, help="Timeout in seconds, 1..900 (default 60).")
@click.option("--role", help="Execution role name or ARN (default: baton creates <name>-baton).")
@click.option("--alias", help="Alias the URL and the endpoint point at (default live).")
@click.option("--auth", type=click.Choice(AUTH_TYPES),
              help="Function URL auth type (default AWS_IAM; NONE makes the URL public).")
@click.option("--invoke", type=click.Choice(INVOKE_MODES),
              help="Endpoint document: 'url' (v2 http to the Function URL, default) or "
                   "'direct' (baton.endpoints.v1/lambda, the Invoke API).")
@click.option("--s3-bucket", help="Upload the zip through this S3 bucket (needed over 50 MB).")
@click.option("--write-module", type=click.Path(dir_okay=False, path_type=Path),
              help="Add or replace the endpoint document in this module.yaml instead of "
                   "printing it.")
@click.option("--keep-zip", type=click.Path(dir_okay=False, path_type=Path),
              help="Also keep the built zip at this path.")
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
def deploy_lambda(project: Path | None, write_module: Path | None, keep_zip: Path | None,
                  dry_run: bool, **options: Any) -> None:
    """Build the zip and create or update the Lambda function, version, alias and URL.

    Settings come from the flags, then [tool.baton.lambda] in pyproject.toml; credentials
    only from the standard AWS chain. Re-deploying unchanged code changes nothing. Prints
    the module.yaml endpoint document (or writes it with --write-module).

    \b
    Examples:
      baton deploy lambda --dry-run
      baton deploy lambda --name orders --handler orders.app.handler --functions 'orders/*'
      baton deploy lambda --architecture arm64 --write-module module.yaml
      baton deploy lambda --invoke direct      # a baton.endpoints.v1/lambda document
    """
    from baton.deploy.endpoint import direct_endpoint, render, url_endpoint
    from baton.deploy.endpoint import write_module as write_module_file
    from baton.deploy.lambda_deploy import LambdaDeployer, connect
    from baton.deploy.package import build_package

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        settings = load_settings(_flags(options), project)
        if settings.auth == "NONE":
            console.print(
                "[bold yellow]warning:[/] auth NONE makes the Function URL public: anyone "
                "who finds it can invoke your functions and change their state (StateFun's "
                "protocol has no authentication of its own). Use AWS_IAM unless something "
                "else guards the URL.")
        aws = connect(settings.region)
        console.print(f"[bold]{'Plan' if dry_run else 'Deploying'}[/] Lambda function "
                      f"[bold]{settings.name}[/] in {aws.region} (account {aws.account}) "
                      f"for {escape(settings.functions)}")
        with tempfile.TemporaryDirectory(prefix="baton-deploy-") as tmp:
            zip_path = Path(tmp) / f"{settings.name}.zip"
            with console.status("building the deployment zip…"):
                package = build_package(settings, zip_path,
                                        report=lambda line: console.print(f"  {escape(line)}"))
            console.print(
                f"  package: {package.megabytes} zipped, "
                f"{package.unzipped_size / 1024 / 1024:.1f} MB unzipped, "
                f"{len(package.entries)} files; {', '.join(package.distributions)}")
            if keep_zip is not None:
                keep_zip.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(zip_path, keep_zip)
                console.print(f"  kept the zip at {keep_zip}")
            labels = _PLANNED if dry_run else _DONE

            def show(change) -> None:
                style = _ACTION_STYLE[change.action]
                label = labels[change.action]
                if change.detail:
                    label = f"{label:<12}[/]  {escape(change.detail)}"
                else:
                    label += "[/]"
                console.print(f"  {change.resource:<13} {escape(change.name):<28} "
                              f"[{style}]{label}")

            with console.status("talking to AWS Lambda…"):
                result = LambdaDeployer(aws, settings, package, report=show,
                                        dry_run=dry_run).deploy()
    except DeployError as error:
        raise click.ClickException(error.render()) from None

    if dry_run:
        console.print("[bold]dry run:[/] nothing was changed"
                      + ("" if result.changed else " (and nothing would change)"))
    elif result.changed:
        console.print(f"[green]deployed[/] {settings.name} version {result.version} "
                      f"(alias {settings.alias}): {result.url}")
    else:
        console.print(f"[dim]unchanged:[/] {settings.name} version {result.version} "
                      f"(alias {settings.alias}) already matches: {result.url}")

    if settings.invoke == "direct":
        document = direct_endpoint(settings.functions, result.function_arn or "",
                                   settings.alias, result.region)
    elif result.url:
        document = url_endpoint(settings.functions, result.url, result.region, settings.auth)
    else:
        console.print("  (the endpoint document needs the Function URL, known after deploy)")
        return
    if dry_run:
        if write_module is not None:
            console.print(f"  would write this endpoint into {write_module}:")
        click.echo(render(document), nl=False)
        return
    if write_module is not None:
        try:
            action = write_module_file(write_module, document)
        except DeployError as error:
            raise click.ClickException(error.render()) from None
        console.print(f"  module: {action} the endpoint for {escape(settings.functions)} "
                      f"in {write_module}")
    else:
        click.echo(render(document), nl=False)


@deploy_group.command(name="package")
@_package_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the zip (default: build/lambda/<name>.zip in the project).")
def deploy_package(project: Path | None, output: Path | None, **options: Any) -> None:
    """Build the deployment zip only (e.g. for infra/lambda/template.yaml's CodeUri).

    Same packaging settings as `baton deploy lambda`; prints the zip's path and CodeSha256.

    \b
    Example:
      baton deploy package --handler orders.app.handler --architecture arm64 -o build/orders.zip
      sam deploy --template-file infra/lambda/template.yaml ...   # CodeUri: build/orders.zip
    """
    from baton.deploy.package import build_package

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    flags = _flags(options)
    flags.setdefault("functions", None)
    try:
        settings = load_settings(flags, project, require_functions=False)
        target = output or settings.project_dir / "build" / "lambda" / f"{settings.name}.zip"
        with console.status("building the deployment zip…"):
            package = build_package(settings, target.resolve(),
                                    report=lambda line: console.print(f"  {escape(line)}"))
    except DeployError as error:
        raise click.ClickException(error.render()) from None
    console.print(f"  {package.megabytes} zipped, {package.unzipped_size / 1024 / 1024:.1f} "
                  f"MB unzipped, {len(package.entries)} files; "
                  f"{', '.join(package.distributions)}")
    click.echo(f"{target}\nCodeSha256: {package.sha256}")
