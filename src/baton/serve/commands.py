"""CLI commands for serving functions: `baton serve` and `baton lambda ...`."""

from __future__ import annotations

import click


@click.group(name="lambda")
def lambda_group() -> None:
    """Run Lambda handlers locally."""
