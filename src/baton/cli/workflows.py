"""`baton workflows run | list | describe`."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from baton.cli.admin import admin_option, get_json
from baton.cli.admin_client import AdminClient
from baton.diagnostics import DefinitionError
from baton.module import ModuleError, load_module
from baton.module.kinds import WORKFLOW_KIND
from baton.module.specs import (
    ExtensionDocument,
    ModuleSpec,
    SourceLocation,
)
from baton.module.typename import TypeName
from baton.module.yaml_nodes import read_yaml

BARE_WORKFLOW_ID = "baton.run/workflow"


@click.group(name="workflows")
def workflows_group() -> None:
    """Run and inspect States Language workflows."""


@workflows_group.command(name="run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--input", "input_json", default="{}", show_default=True,
              help="The execution input, as JSON.")
@click.option("--workflow", "workflow_id", default=None,
              help="Which workflow of a module.yaml to run (its spec.id).")
@click.option("--lambda", "lambdas", multiple=True, metavar="NAME=path.py:handler",
              help="Run the Lambda NAME from local handler code (repeatable).")
@click.option("--name", default="run-1", show_default=True, help="The execution id.")
@click.option("--timeout", default=600.0, show_default=True, help="Give up after this many seconds.")
def run(file: Path, input_json: str, workflow_id: str | None, lambdas: tuple[str, ...],
        name: str, timeout: float) -> None:
    """Run one execution on an embedded runtime and print its result as JSON.

    FILE is a module.yaml (pick the workflow with --workflow) or a bare state machine in JSON
    or YAML. Task resources that are StateFun function types need their endpoints in the module.
    The module's fixed ports are not used: a run works beside a running baton. A failed run
    exits 1; -v shows the log (e.g. an interpreter's traceback).

    \b
    Examples:
      baton workflows run machine.json --input '{"x": 1}'
      baton workflows run module.yaml --workflow orders/fulfillment --input @order.json
      baton workflows run machine.yaml --lambda echo=handlers.py:handler
    """
    try:
        text = Path(input_json[1:]).read_text() if input_json.startswith("@") else input_json
        execution_input = json.loads(text)
        json.dumps(execution_input, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        bad = error.object[error.start:error.end]
        raise click.BadParameter(f"not valid Unicode text: {error.reason} ({bad!r})",
                                 param_hint="--input") from None
    except (ValueError, OSError) as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--input") from None
    try:
        module, target = _module_for(file, workflow_id)
    except ModuleError as error:
        raise click.ClickException(error.render_all()) from None
    handlers = dict(_parse_lambda(spec) for spec in lambdas)
    from baton.workflows.run import run_execution

    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        # The result says why a run failed; tracebacks and park warnings are for -v.
        for name in ("baton.serve.http", "baton.runtime"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        result = asyncio.run(run_execution(module, target, execution_input, name, handlers, timeout))
    except (ModuleError, DefinitionError) as error:
        raise click.ClickException(error.render_all()) from None
    except OSError as error:
        raise click.ClickException(f"cannot listen: {error}") from None
    click.echo(json.dumps(result, indent=2))
    if result["status"] != "SUCCEEDED":
        sys.exit(1)


def _parse_lambda(text: str) -> tuple[str, str]:
    name, sep, handler = text.partition("=")
    if not sep or ":" not in handler:
        raise click.BadParameter(f"{text!r}: write NAME=path/to/file.py:handler", param_hint="--lambda")
    return name, handler


def _module_for(file: Path, workflow_id: str | None) -> tuple[ModuleSpec, TypeName]:
    """The module to run and the workflow to start."""
    data, lines = read_yaml(file)
    if isinstance(data, dict) and "StartAt" in data:  # a bare state machine
        doc = ExtensionDocument(
            WORKFLOW_KIND,
            {"id": BARE_WORKFLOW_ID, "definition": data},
            SourceLocation(str(file), 1),
            {("definition", *path): line for path, line in lines.items()},
        )
        return ModuleSpec(extensions=(doc,), files=(str(file),)), TypeName.parse(BARE_WORKFLOW_ID)
    module = load_module(file)
    from baton.workflows.module_kind import workflows_of

    ids = [w.id for w in workflows_of(module)]
    if workflow_id is None:
        if len(ids) != 1:
            raise click.ClickException(
                f"{file} has {len(ids)} workflows ({', '.join(map(str, ids)) or 'none'}); "
                "choose one with --workflow"
            )
        return module, ids[0]
    target = TypeName.parse(workflow_id)
    if target not in ids:
        raise click.ClickException(f"no workflow {workflow_id} in {file} (has: {', '.join(map(str, ids))})")
    return module, target


@workflows_group.command(name="list")
@admin_option
def list_executions(admin_url: str) -> None:
    """List the executions of every workflow of a running baton.

    \b
    Example:
      baton workflows list --admin http://127.0.0.1:8081
    """
    listing = get_json(AdminClient(admin_url), "/workflows", "workflows")
    for workflow in listing:
        click.echo(f"{workflow['workflow']}  ({len(workflow['executions'])} executions)")
        for execution in workflow["executions"]:
            click.echo(f"  {execution['id']:<36} {execution.get('status') or '?':<10} "
                       f"{_when(execution.get('start_time'), execution.get('stop_time'))}")


def _when(start: float | None, stop: float | None) -> str:
    """`started 2026-05-01 12:00:03` plus how long it ran (or runs), in local time."""
    if start is None:
        return ""
    started = datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S")
    took = (stop if stop is not None else time.time()) - start
    return f"started {started}, {'ran' if stop is not None else 'running for'} {took:.3g} s"


@workflows_group.command(name="describe")
@click.argument("execution")
@admin_option
def describe(execution: str, admin_url: str) -> None:
    """Show one execution (status, input, output, history) as JSON.

    EXECUTION is `<workflow namespace>/<workflow name>/<execution id>`.

    \b
    Example:
      baton workflows describe orders/fulfillment/order-42
    """
    data = get_json(AdminClient(admin_url), f"/workflows/{execution}", execution)
    click.echo(json.dumps(data, indent=2))
