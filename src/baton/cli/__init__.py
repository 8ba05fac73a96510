"""The `baton` command line: the click layer over the runtime, workflows, serve and deploy.

`baton.cli:main` is the console script; `python -m baton.cli` runs it too. The command group
loads on first use, so importing `baton.cli.admin_client` alone stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from baton.cli.root import cli, main

__all__ = ["cli", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from baton.cli import root

        return getattr(root, name)
    raise AttributeError(f"module 'baton.cli' has no attribute {name!r}")
