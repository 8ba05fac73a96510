"""The `baton` command group: every command of the command line is registered here."""

from __future__ import annotations

import warnings
from typing import TextIO

import click

from baton.cli.logs import configure_logging, warn
from baton.diagnostics import ModuleWarning


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="BATON_LOG_FORMAT",
              help="json: one JSON object per line, with an `event` field for significant events "
              "(env BATON_LOG_FORMAT).")
def cli(verbose: int, log_format: str) -> None:
    """baton: run Apache Flink StateFun applications in one Python process."""
    configure_logging(verbose, log_format)
    warnings.showwarning = _show_warning


_python_showwarning = warnings.showwarning


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """A module.yaml warning as one line (it names its own file and line), not Python's format."""
    if issubclass(category, ModuleWarning):
        warn(str(message), "module_warning")
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


def _register_commands() -> None:
    from baton.cli.admin import COMMANDS as admin_commands
    from baton.cli.build import build
    from baton.cli.deploy import deploy_group
    from baton.cli.new import new
    from baton.cli.run import run
    from baton.cli.serve import lambda_group, serve
    from baton.cli.workflows import workflows_group

    for command in (new, run, build, *admin_commands, deploy_group, workflows_group, serve, lambda_group):
        cli.add_command(command)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    cli()
