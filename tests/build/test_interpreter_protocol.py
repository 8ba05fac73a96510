"""The workflow bundle `baton build` renders, behind `baton serve`, driven the way a cluster does.

Two real `baton serve` processes (the interpreter with BATON_WORKFLOWS pointing at the rendered
bundle, and the example's task functions) get nothing but StateFun request-reply traffic:
`ToFunction` protobuf POSTed as application/octet-stream, `FromFunction` back. The driver here
does what the StateFun runtime does with a reply — registers missing state on
IncompleteInvocationContext and re-sends, keeps state mutations per address, routes outgoing
messages (with the caller) by the rendered module's endpoints, collects egress — and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from statefun.request_reply_pb2 import Address, FromFunction, ToFunction, TypedValue

from baton.cli import cli
from baton.module import load_module
from baton.module.specs import HttpEndpointSpec
from baton.module.typename import TypeName
from tests.conftest import ROOT

BATON = Path(sys.executable).parent / "baton"
MUTATION = FromFunction.PersistedValueMutation


@contextmanager
def _serve(target: str, env: dict[str, str]) -> Iterator[str]:
    """`baton serve TARGET --port 0` as a real process; yields its /statefun URL."""
    process = subprocess.Popen(
        [str(BATON), "serve", target, "--port", "0"], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # the first line names the bound URL (or the failure)
            if match := re.search(r"on (http://\S+)", line):
                yield match.group(1)
                return
            if "Error" in line:
                break
        pytest.fail(f"baton serve {target} did not start: {line}")
    finally:
        process.terminate()
        process.wait(timeout=10)


class StateFunDriver:
    """The runtime side of the protocol, for a handful of addresses, one batch at a time."""

    def __init__(self, route) -> None:  # route: function type -> URL
        self.route = route
        self.specs: dict[str, list[str]] = {}  # function type -> registered state names
        self.state: dict[tuple[str, str, str], dict[str, TypedValue]] = {}
        self.egress: list[tuple[str, TypedValue]] = []
        self.requests = 0

    def run(self, target: Address, argument: TypedValue, limit: int = 200) -> None:
        queue: deque[tuple[Address, Address | None, TypedValue]] = deque([(target, None, argument)])
        while queue:
            assert self.requests < limit, "the workflow did not finish"
            to, caller, value = queue.popleft()
            result = self._invoke(to, caller, value)
            for message in result.outgoing_messages:
                queue.append((message.target, to, message.argument))
            for delayed in result.delayed_invocations:
                assert not delayed.is_cancellation_request
                queue.append((delayed.target, to, delayed.argument))
            for egress in result.outgoing_egresses:
                self.egress.append((f"{egress.egress_namespace}/{egress.egress_type}",
                                    egress.argument))

    def _invoke(self, to: Address, caller: Address | None, value: TypedValue):
        function_type = f"{to.namespace}/{to.type}"
        key = (to.namespace, to.type, to.id)
        while True:
            request = ToFunction()
            batch = request.invocation
            batch.target.CopyFrom(to)
            stored = self.state.setdefault(key, {})
            for name in self.specs.get(function_type, []):
                state = batch.state.add(state_name=name)
                if name in stored:
                    state.state_value.CopyFrom(stored[name])
            invocation = batch.invocations.add(argument=value)
            if caller is not None:
                invocation.caller.CopyFrom(caller)
            reply = self._post(self.route(function_type), request.SerializeToString())
            if reply.HasField("incomplete_invocation_context"):
                missing = [s.state_name for s in reply.incomplete_invocation_context.missing_values]
                assert missing, "IncompleteInvocationContext without missing values"
                self.specs.setdefault(function_type, []).extend(missing)
                continue
            result = reply.invocation_result
            for mutation in result.state_mutations:
                if mutation.mutation_type == MUTATION.MODIFY:
                    stored[mutation.state_name] = mutation.state_value
                else:
                    stored.pop(mutation.state_name, None)
            return result

    def _post(self, url: str, body: bytes) -> FromFunction:
        self.requests += 1
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/octet-stream"
            return FromFunction.FromString(response.read())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The example built for k8s, its two servers running, and a driver routing between them."""
    out = tmp_path_factory.mktemp("build")
    result = CliRunner().invoke(cli, ["build", str(ROOT / "module.yaml"), "--out", str(out),
                                      "--target", "k8s", "--serve", "functions.app:functions"])
    assert result.exit_code == 0, result.output
    module = load_module(out / "module" / "module.yaml", strict_statefun=True)
    bundle = out / "workflows" / "workflows.yaml"
    with _serve("baton.workflows.app:functions", {"BATON_WORKFLOWS": str(bundle)}) as interpreter, \
            _serve("functions.app:functions", {}) as tasks:
        local = {"baton-workflows": interpreter, "orders-functions": tasks}

        def route(function_type: str) -> str:
            endpoint = module.endpoint_for(TypeName.parse(function_type))
            assert isinstance(endpoint, HttpEndpointSpec), f"no endpoint serves {function_type}"
            service = endpoint.url_path_template.split("/")[2].split(":")[0]
            return local[service]  # the in-cluster service name → the process started here

        yield route


def _fulfil(route, order_id: str, **changes) -> dict:
    order = {"order_id": order_id, "customer_id": "c-1", "card_number": "4242424242424242",
             "total_cents": 1250, "currency": "EUR",
             "lines": [{"line_no": 1, "sku": "SKU-1", "quantity": 2}]} | changes
    driver = StateFunDriver(route)
    start = TypedValue(typename="orders/FulfillmentInput", has_value=True,
                       value=json.dumps(order).encode())
    driver.run(Address(namespace="orders", type="fulfillment", id=order_id), start)
    [(egress, record)] = driver.egress  # resultEgress: one record per finished execution
    assert egress == "io.statefun.playground/egress"
    published = json.loads(record.value)
    assert published["topic"] == "orders-fulfillment"
    return json.loads(published["payload"])


def test_a_workflow_runs_through_the_served_bundle(cluster):
    result = _fulfil(cluster, "o-1")
    assert result["execution"] == "o-1" and result["status"] == "SUCCEEDED"
    assert result["output"]["shipment"]["tracking_id"] == "trk-o-1"
    assert result["output"]["payment"]["charge_id"] == "ch-o-1"


def test_a_failing_task_is_compensated_through_the_served_bundle(cluster):
    result = _fulfil(cluster, "o-2", lines=[{"line_no": 1, "sku": "OOS-9", "quantity": 1}])
    assert result["status"] == "FAILED" and result["error"] == "OrderCompensated"
    assert "not in stock: OOS-9 x1" in result["cause"] and "payment refunded" in result["cause"]
