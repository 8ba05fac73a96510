"""`baton build`: a module a real StateFun 3.3 cluster accepts, plus the workflow bundle."""

from __future__ import annotations

from click.testing import CliRunner

from baton.cli import cli
from baton.module import load_module
from tests.workflows import saga

MODULE = """# the application
kind: io.statefun.endpoints.v2/http
spec:
  functions: saga/*
  urlPathTemplate: http://tasks:8000/statefun
---
kind: io.statefun.playground.v1/ingress
spec: {port: 8090}
---
kind: io.statefun.playground.v1/egress
spec: {port: 8091, topics: [results]}
""" + saga.DEFINITION


def test_build_strips_baton_kinds_and_bundles_workflows(tmp_path):
    (tmp_path / "module.yaml").write_text(MODULE)
    result = CliRunner().invoke(
        cli, ["build", str(tmp_path / "module.yaml"), "--out", str(tmp_path / "build"),
              "--interpreter-url", "http://workflows:8000/statefun"],
    )
    assert result.exit_code == 0, result.output
    built = tmp_path / "build" / "module" / "module.yaml"
    spec = load_module(built, strict_statefun=True)  # only StateFun kinds: a cluster accepts it
    assert not spec.extensions
    from baton.module.specs import TypeName

    interpreter = spec.endpoint_for(TypeName("saga", "order"))
    assert interpreter is not None and interpreter.url_path_template == "http://workflows:8000/statefun"
    assert not interpreter.functions.is_wildcard  # beats the saga/* tasks endpoint
    assert spec.endpoint_for(TypeName("saga", "charge")).url_path_template == "http://tasks:8000/statefun"
    assert spec.endpoint_for(TypeName("baton.workflows", "lambda")) is not None

    bundle = tmp_path / "build" / "workflows" / "workflows.yaml"
    from baton.workflows.module_kind import workflows_of

    [workflow] = workflows_of(load_module(bundle))
    assert str(workflow.id) == "saga/order"
    assert "baton serve baton.workflows.app:functions" in result.output


def test_build_explains_what_replaces_a_direct_lambda_endpoint(tmp_path):
    (tmp_path / "module.yaml").write_text(
        "kind: baton.endpoints.v1/lambda\n"
        "spec: {functions: fn/*, functionName: my-fn}\n"
    )
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "module.yaml"), "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "Function URL with auth NONE" in result.output and ":1:" in result.output
