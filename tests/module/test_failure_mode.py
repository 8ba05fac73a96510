"""The fransking fork's endpoint `failureMode: FAIL|DROP`: parsed, validated, and what baton does.

FAIL (the default) parks an address whose call failed for good; DROP dead-letters the failed
batch, with the reason, and goes on with the next one (the fork logs and skips it).
"""

from __future__ import annotations

import pytest
from statefun import StatefulFunctions, egress_message_builder, make_json_type

from baton.module import FailureMode, ModuleError, load_module_text
from baton.module.kinds import PLAYGROUND_EGRESS_RECORD_TYPE
from baton.runtime import Address
from tests.conftest import eventually

ENDPOINT = """kind: io.statefun.endpoints.v2/http
spec:
  functions: fm/*
  urlPathTemplate: {url}
  transport: {{call: 300ms}}
{extra}---
kind: io.statefun.playground.v1/ingress
spec: {{port: 0}}
"""


def _module(extra: str = "", url: str = "http://127.0.0.1:8000/statefun") -> str:
    return ENDPOINT.format(url=url, extra=extra)


@pytest.mark.parametrize(("written", "mode"), [("", FailureMode.FAIL), ("FAIL", FailureMode.FAIL),
                                               ("DROP", FailureMode.DROP)])
def test_failure_mode_is_read_from_v2_endpoints(written, mode):
    extra = f"  failureMode: {written}\n" if written else ""
    [endpoint] = load_module_text(_module(extra)).endpoints
    assert endpoint.failure_mode is mode


def test_a_lower_case_failure_mode_is_refused_with_the_spelling_the_fork_needs():
    with pytest.raises(ModuleError) as error:
        load_module_text(_module("  failureMode: drop\n"))
    assert "must be written DROP" in str(error.value) and "<string>:6: spec.failureMode" in str(error.value)


def test_an_unknown_failure_mode_lists_the_valid_ones():
    with pytest.raises(ModuleError, match=r"valid values are \[FAIL, DROP\]"):
        load_module_text(_module("  failureMode: SKIP\n"))


def test_a_v1_endpoint_warns_that_only_v2_reads_failure_mode():
    module = """kind: io.statefun.endpoints.v1/http
spec:
  functions: fm/*
  urlPathTemplate: http://127.0.0.1:8000/statefun
  failureMode: DROP
"""
    with pytest.warns(Warning, match=r"only read by io\.statefun\.endpoints\.v2/http"):
        load_module_text(module)


def _functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("fm/echo")
    def echo(context, message):
        text = message.raw_value().decode()
        if text == "poison":
            raise RuntimeError("cannot handle poison")  # the SDK answers 500: a failed call
        context.send_egress(_egress_message(text))

    return functions


def _egress_message(text: str):
    return egress_message_builder(
        target_typename="io.statefun.playground/egress",
        value={"topic": "out", "payload": text},
        value_type=make_json_type(PLAYGROUND_EGRESS_RECORD_TYPE),
    )


@pytest.mark.parametrize("mode", ["FAIL", "DROP"])
async def test_a_failed_call_parks_or_dead_letters_by_failure_mode(function_server, start_app, mode):
    url = await function_server(_functions())
    module = _module(f"  failureMode: {mode}\n", url) + (
        "---\nkind: io.statefun.playground.v1/egress\nspec: {port: 0, topics: [out]}\n"
    )
    app = await start_app(module)
    address = Address("fm", "echo", "a")
    assert await app.send("fm/echo/a", "poison", "application/vnd.fm/Text") == 202
    assert await app.send("fm/echo/a", "fine", "application/vnd.fm/Text") == 202
    if mode == "FAIL":
        await eventually(lambda: address in app.runtime.parked())
        assert "calling" in app.runtime.parked()[address].reason
        assert not app.runtime.dead_letters() and app.runtime.status().queued == 2
        return
    assert await app.take("out") == "fine"  # the next message went through
    [letter] = app.runtime.dead_letters()
    assert letter.message.target == address and letter.message.value == b"poison"
    assert letter.reason.startswith("dropped (failureMode: DROP): calling")
    assert not app.runtime.parked()
