"""End to end: the embedded runtime calls SDK functions through `baton lambda local`.

`baton.endpoints.v1/lambda` with `endpointUrl` pointing at `LambdaLocal`'s Invoke API; the
handlers run in AWS's runtime interface client (awslambdaric) in their own processes.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT
from tests.lambda_transport.functions import PLAYGROUND, assert_counter_flow

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("baton.serve.lambda_local") is None
    or importlib.util.find_spec("baton.serve.aws_lambda") is None,
    reason="baton lambda local is not available",
)

HANDLERS = """
from baton.serve.aws_lambda import lambda_handler
from tests.lambda_transport.functions import counter_functions

handler = lambda_handler(counter_functions())
"""


@pytest.fixture
async def lambda_local(tmp_path, aws_env):
    from baton.serve.lambda_local import LambdaLocal

    (tmp_path / "handlers.py").write_text(HANDLERS)
    aws_env.setenv("PYTHONPATH", str(ROOT))  # the runtime processes import tests.lambda_transport
    local = LambdaLocal(
        {"fn-counter": "handlers:handler", "fn-reporter": "handlers:handler"},
        port=0,
        task_root=tmp_path,
        timeout=30,
    )
    async with local:
        yield local


async def test_state_and_messages_flow_through_lambda_local(lambda_local, start_app):
    assert lambda_local.status() == {"fn-counter": "ready", "fn-reporter": "ready"}
    assert lambda_local.runtime_pids("fn-counter") and lambda_local.runtime_pids("fn-reporter")
    app = await start_app(
        "kind: baton.endpoints.v1/lambda\nspec:\n  functions: example/*\n"
        "  functionName: fn-{function.name}\n  qualifier: $LATEST\n"
        f"  endpointUrl: {lambda_local.url}\n  call: 30s\n" + PLAYGROUND
    )

    await assert_counter_flow(app)  # state 1, 2, 3; forwarded to the reporter; egressed
    await assert_counter_flow(app, entity="c2")  # another address starts from empty state

    metrics = (await app.admin_get("/metrics.json"))["functions"]
    assert metrics["example/counter"]["invocation_failures"] == 0
    assert metrics["example/reporter"]["out_egress"] == 6
