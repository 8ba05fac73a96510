"""CLI commands for deploying: `baton deploy ...`."""

from __future__ import annotations

import click


@click.group(name="deploy")
def deploy_group() -> None:
    """Deploy functions (AWS Lambda)."""
