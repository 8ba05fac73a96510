"""What `baton run` says: one-line warnings, an unreachable endpoint at startup, message flow
with -vv (issue 11, item 5). The scaffolded application, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys

from tests.cli.baton_process import baton_run, free_playground_ports, greet_through_playground

BATON = [sys.executable, "-m", "baton.cli"]


def _app(tmp_path):
    subprocess.run([*BATON, "new", "demo"], cwd=tmp_path, check=True, capture_output=True)
    app = tmp_path / "demo"
    free_playground_ports(app / "module.yaml")
    return app


async def test_vv_shows_ingress_invocations_and_egress(tmp_path):
    app = _app(tmp_path)
    stderr: list[str] = []
    async with baton_run([*BATON, "-vv", "run", "--admin-port", "0"], cwd=app, stderr=stderr) as listeners:
        await greet_through_playground(listeners, "demo", "Bob")
    text = "\n".join(stderr)
    assert "ingress: demo/greeter/Bob <- demo/Greet" in text
    assert "invoked demo/greeter/Bob: batch of 1 -> 1 state change(s), 0 message(s), 0 delayed, 1 egress" in text
    assert "egress: io.statefun.playground/egress topic greetings taken" in text


async def test_a_typo_warns_in_one_line_and_an_unreachable_endpoint_is_named(tmp_path):
    app = _app(tmp_path)
    module = app / "module.yaml"
    module.write_text(module.read_text().replace("    call: 30s", "    cal: 30s") + (
        "---\nkind: io.statefun.endpoints.v2/http\n"
        "spec: {functions: other/*, urlPathTemplate: 'http://127.0.0.1:9/statefun'}\n"
    ))
    stderr: list[str] = []
    async with baton_run([*BATON, "run", "--admin-port", "0"], cwd=app, stderr=stderr):
        pass
    typo = [line for line in stderr if "cal" in line and "Did you mean" in line]
    assert typo == [f"baton: warning: {module.name}:10: spec.transport.cal: unknown key `cal` is "
                    "ignored (StateFun ignores it too). Did you mean `call`?"], stderr
    assert not any("warnings.warn" in line or "ModuleWarning" in line for line in stderr)
    unreachable = [line for line in stderr if "not reachable" in line]
    # demo/* is served by baton run itself ([tool.baton.run] serve); other/* is not there.
    assert len(unreachable) == 1 and "endpoint other/* (module.yaml:22)" in unreachable[0], stderr
