"""`baton serve MODULE:ATTR`: a real subprocess answering StateFun batches over HTTP."""

from __future__ import annotations

import signal
import sys

import aiohttp
import pytest
from click.testing import CliRunner

from baton.cli import cli
from tests.serve.conftest import free_port, wait_for_output
from tests.serve.protocol import from_function, missing_state, modified_ints, to_function


async def test_baton_serve_answers_tofunction_batches(start_cli):
    port = free_port()
    process, log = start_cli("serve", "tests.serve.lambda_app:functions", "--port", str(port),
                             "--path", "/fns")
    url = wait_for_output(process, log, r"on (http://\S+)").group(1)
    assert url == f"http://127.0.0.1:{port}/fns"
    assert "test/counter" in log.read_text() and "test/failing" in log.read_text()

    headers = {"Content-Type": "application/octet-stream"}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=to_function("test/counter", "a", 4),
                                headers=headers) as response:
            assert response.status == 200
            assert response.content_type == "application/octet-stream"
            assert missing_state(from_function(await response.read())) == [
                ("count", "io.statefun.types/int")
            ]
        body = to_function("test/counter", "a", 4, state={"count": 10})
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 200
            assert modified_ints(from_function(await response.read())) == {"count": 14}
        async with session.post(url, data=to_function("test/failing", "z", 1),
                                headers=headers) as response:
            assert response.status == 500
            assert await response.text() == "ValueError: boom for z"

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert "Traceback" in log.read_text()  # the failure was logged with its traceback


BAD_TARGETS = {
    "tests.serve.lambda_app": "expected MODULE:ATTR",
    "tests.serve.no_such_module:functions": "module 'tests.serve.no_such_module' not found",
    "no_such_package.sub:functions": "module 'no_such_package.sub' not found",
    "tests.serve.lambda_app:nothing": "module 'tests.serve.lambda_app' has no attribute 'nothing'",
    "tests.serve.lambda_app:handler": "is a baton.serve.aws_lambda.LambdaHandler, not a "
                                      "statefun.StatefulFunctions",
    "tests.serve.lambda_app:1x": "not a Python attribute name",
}


@pytest.mark.parametrize("target", sorted(BAD_TARGETS))
def test_bad_targets_are_explained(target):
    result = CliRunner().invoke(cli, ["serve", target, "--port", "0"])
    assert result.exit_code == 1, result.output
    assert BAD_TARGETS[target] in result.output


def test_import_errors_inside_the_module_are_told_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "needs_dep.py").write_text("import not_installed_anywhere_xyz\n")
    (tmp_path / "explodes.py").write_text("raise RuntimeError('config missing')\n")

    result = CliRunner().invoke(cli, ["serve", "needs_dep:functions"])
    assert result.exit_code == 1
    assert "importing 'needs_dep' failed: No module named 'not_installed_anywhere_xyz'" in result.output

    result = CliRunner().invoke(cli, ["serve", "explodes:functions"])
    assert result.exit_code == 1
    assert "importing 'explodes' failed: RuntimeError: config missing" in result.output


def test_the_module_is_found_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    (tmp_path / "cwd_app.py").write_text("functions = 42\n")
    result = CliRunner().invoke(cli, ["serve", "cwd_app:functions"])
    assert result.exit_code == 1
    assert "cwd_app:functions is a builtins.int, not a statefun.StatefulFunctions" in result.output
