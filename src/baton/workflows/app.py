"""The workflow interpreter as a servable app, for a real StateFun cluster.

`BATON_WORKFLOWS=workflows.yaml baton serve baton.workflows.app:functions --port 8000` serves the
workflows bundled by `baton build` (and the Lambda bridge) to a StateFun cluster.
"""

from __future__ import annotations

import os

from statefun import StatefulFunctions

from baton.module import load_module
from baton.workflows.function import workflow_functions
from baton.workflows.lambda_bridge import bind_lambda_bridge
from baton.workflows.module_kind import workflows_of


def functions_from(path: str) -> StatefulFunctions:
    """The interpreter for every workflow in a bundle (or module.yaml), plus the Lambda bridge."""
    functions = workflow_functions(workflows_of(load_module(path)))
    bind_lambda_bridge(functions)
    return functions


functions = functions_from(os.environ.get("BATON_WORKFLOWS", "workflows.yaml"))
