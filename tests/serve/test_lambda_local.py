"""`LambdaLocal` / `baton lambda local`: real handlers in awslambdaric processes, called by boto3."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from baton.aws.envelope import direct_invoke_payload, parse_http_response
from baton.serve import LambdaLocal, LocalFunction
from tests.serve.conftest import free_port, wait_for_output
from tests.serve.protocol import from_function, missing_state, modified_ints, to_function

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

FUNCTIONS = {
    "statefun": "tests.serve.lambda_app:handler",
    "echo": "tests.serve.plain_handlers:echo",
    "by-file": "tests/serve/plain_handlers.py:echo",
    "raising": "tests.serve.plain_handlers:raising",
    "crash": "tests.serve.plain_handlers:crash",
    "touch": "tests.serve.plain_handlers:touch",
    "big": "tests.serve.plain_handlers:big",
    "sleepy": LocalFunction("tests.serve.plain_handlers:sleepy", timeout=1.0),
    "pair": LocalFunction("tests.serve.plain_handlers:rendezvous", concurrency=2),
    "missing": "tests.serve.no_such_module:handler",
}


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.01)
    return result


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def lambda_client(url: str):
    return boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0}, read_timeout=60),
    )


@pytest.fixture(scope="module")
def local():
    lines: list[tuple[str, str]] = []
    with LambdaLocal(FUNCTIONS, port=0, task_root=ROOT,
                     output=lambda name, line: lines.append((name, line))) as running:
        running.lines = lines
        yield running


@pytest.fixture(scope="module")
def client(local):
    return lambda_client(local.url)


def invoke(client, name: str, payload: bytes | dict = b"{}", **kwargs) -> tuple[dict, bytes]:
    if isinstance(payload, dict):
        payload = json.dumps(payload).encode()
    response = client.invoke(FunctionName=name, Payload=payload, **kwargs)
    return response, response["Payload"].read()


def test_a_statefun_handler_answers_direct_invokes(client):
    response, payload = invoke(client, "statefun",
                               direct_invoke_payload(to_function("test/counter", "a", 5)))
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    reply = parse_http_response(payload)
    assert reply.status == 200 and reply.content_type == "application/octet-stream"
    assert missing_state(from_function(reply.body)) == [("count", "io.statefun.types/int")]

    body = to_function("test/counter", "a", 5, state={"count": 1})
    _, payload = invoke(client, "statefun", direct_invoke_payload(body))
    assert modified_ints(from_function(parse_http_response(payload).body)) == {"count": 6}


def test_a_failing_sdk_function_is_a_proxy_500_not_a_lambda_error(client):
    response, payload = invoke(client, "statefun",
                               direct_invoke_payload(to_function("test/failing", "q", 1)))
    assert "FunctionError" not in response
    reply = parse_http_response(payload)
    assert (reply.status, reply.body) == (500, b"ValueError: boom for q")


def test_a_raising_handler_is_an_unhandled_function_error(client):
    response, payload = invoke(client, "raising", {"thing": "spoon"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(payload)
    assert error["errorType"] == "KeyError"
    assert "no such thing: spoon" in error["errorMessage"]
    assert any("plain_handlers.py" in frame for frame in error["stackTrace"])


def test_an_unknown_function_is_resource_not_found(client):
    with pytest.raises(ClientError) as caught:
        invoke(client, "nobody")
    error = caught.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nobody"
    )
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        invoke(client, "arn:aws:lambda:us-east-1:123456789012:function:nobody:live")


def test_handlers_get_a_lambda_context_and_environment(client, local):
    arn = local.function_arn("echo")
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    response, payload = invoke(client, arn, {"x": 1}, Qualifier="$LATEST", ClientContext=context)
    seen = json.loads(payload)
    assert seen["event"] == {"x": 1}
    assert seen["request_id"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert seen["function_name"] == "echo"
    assert seen["invoked_function_arn"] == f"{arn}:$LATEST"
    assert 0 < seen["remaining_ms"] <= 300_000
    assert seen["memory_mb"] == "128"
    assert seen["client_context"] == {"tenant": "t1"}
    assert seen["task_root"] == seen["cwd"] == str(ROOT)
    assert seen["region"] == "us-east-1"
    # the handler's output reaches the output sink, tagged with the function name
    wait_until(lambda: ("echo", "echo got {'x': 1}") in local.lines, what="echo's output")


def test_a_handler_named_by_file_runs_in_that_directory(client):
    _, payload = invoke(client, "by-file", {"y": 2})
    seen = json.loads(payload)
    assert seen["event"] == {"y": 2}
    assert seen["task_root"] == seen["cwd"] == str(HERE)


def test_invocations_queue_for_one_runtime_process(client):
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda i: invoke(client, "echo", {"i": i}), range(12)))
    seen = [json.loads(payload) for _, payload in results]
    assert [s["event"]["i"] for s in seen] == list(range(12))
    assert len({s["request_id"] for s in seen}) == 12
    assert len({s["pid"] for s in seen}) == 1  # concurrency 1: one process answered them all


def test_concurrency_runs_invocations_side_by_side(client, tmp_path):
    # each invocation returns only once both are running at the same time
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda _: invoke(client, "pair", {"dir": str(tmp_path), "expect": 2}), range(2)
        ))
    assert [r.get("FunctionError") for r, _ in results] == [None, None], results
    assert len({json.loads(payload)["pid"] for _, payload in results}) == 2


def test_a_crash_fails_the_invocation_and_the_runtime_restarts(client, local):
    _, payload = invoke(client, "crash", {})
    before = json.loads(payload)["pid"]

    response, payload = invoke(client, "crash", {"crash": True})
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(payload)
    assert error["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in error["errorMessage"]

    response, payload = invoke(client, "crash", {})
    assert "FunctionError" not in response
    assert json.loads(payload)["pid"] != before
    assert not pid_alive(before)


def test_a_runtime_killed_while_idle_is_replaced(client, local):
    _, payload = invoke(client, "crash", {})
    victim = json.loads(payload)["pid"]
    os.kill(victim, signal.SIGKILL)
    (replacement,) = wait_until(
        lambda: [p for p in local.runtime_pids("crash") if p != victim], what="a new runtime"
    )
    response, payload = invoke(client, "crash", {})
    assert "FunctionError" not in response
    assert json.loads(payload)["pid"] == replacement


def test_a_timeout_fails_the_invocation_and_resets_the_runtime(client):
    _, payload = invoke(client, "sleepy", {})
    before = json.loads(payload)["pid"]

    started = time.monotonic()
    response, payload = invoke(client, "sleepy", {"sleep": 60})
    assert time.monotonic() - started < 30
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]

    response, payload = invoke(client, "sleepy", {})
    assert "FunctionError" not in response
    assert json.loads(payload)["pid"] != before


def test_an_init_error_is_returned_for_every_invocation(client, local):
    assert local.status()["missing"].startswith("init failed: Runtime.ImportModuleError")
    for _ in range(2):  # init is retried for each invocation, as Lambda does
        response, payload = invoke(client, "missing", {})
        assert response["FunctionError"] == "Unhandled"
        error = json.loads(payload)
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert "Unable to import module 'tests.serve.no_such_module'" in error["errorMessage"]
    assert local.status()["echo"] == "ready"


def test_a_payload_that_is_not_json_is_refused(client):
    with pytest.raises(ClientError) as caught:
        invoke(client, "echo", b"not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_payload_limits_are_lambdas(client):
    with pytest.raises(ClientError) as caught:
        invoke(client, "echo", {"pad": "x" * 6_300_000})
    assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413

    response, payload = invoke(client, "big", {"size": 6_300_000})
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(payload)["errorType"] == "Function.ResponseSizeTooLarge"
    _, payload = invoke(client, "big", {"size": 1000})
    assert json.loads(payload) == {"blob": "x" * 1000}


def test_event_and_dry_run_invocation_types(client, tmp_path):
    target = tmp_path / "touched"
    response, _ = invoke(client, "touch", {"path": str(target)}, InvocationType="Event")
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    wait_until(lambda: target.exists() and target.read_text() == request_id,
               what="the asynchronous invocation")

    response, _ = invoke(client, "touch", {"path": str(tmp_path / "dry")}, InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert not (tmp_path / "dry").exists()


async def test_the_async_api_serves_raw_http_and_stops_its_processes():
    async with LambdaLocal({"statefun": "tests.serve.lambda_app:handler"}, port=0,
                           task_root=ROOT) as running:
        (pid,) = running.runtime_pids("statefun")
        body = to_function("test/counter", "b", 2, state={"count": 3})
        async with aiohttp.ClientSession() as session, session.post(
            f"{running.url}/2015-03-31/functions/statefun/invocations",
            params={"Qualifier": "$LATEST"},
            data=direct_invoke_payload(body),
            headers={"X-Amz-Invocation-Type": "RequestResponse"},
        ) as response:
            assert response.status == 200
            assert "X-Amz-Function-Error" not in response.headers
            payload = await response.read()
        assert modified_ints(from_function(parse_http_response(payload).body)) == {"count": 5}
    assert not pid_alive(pid)


def test_bad_function_specs_are_refused_up_front():
    with pytest.raises(ValueError, match="not a Lambda function name"):
        LambdaLocal({"no spaces": "app:handler"})
    with pytest.raises(ValueError, match="expected a handler"):
        LambdaLocal({"f": "app"})
    with pytest.raises(ValueError, match="at least one function"):
        LambdaLocal({})


def test_the_cli_serves_the_invoke_api(start_cli):
    port = free_port()
    process, log = start_cli("lambda", "local", "--function", "sf=tests.serve.lambda_app:handler",
                             "--function", "gone=tests.serve.no_such_module:handler",
                             "--port", str(port))
    url = wait_for_output(process, log, r"Invoke API on (http://\S+)").group(1)
    assert url == f"http://127.0.0.1:{port}"
    text = log.read_text()
    assert re.search(r"sf +tests.serve.lambda_app:handler +ready", text), text
    assert "init failed: Runtime.ImportModuleError" in text

    response, payload = invoke(lambda_client(url), "sf",
                               direct_invoke_payload(to_function("test/counter", "c", 1)))
    assert "FunctionError" not in response
    assert missing_state(from_function(parse_http_response(payload).body)) == [
        ("count", "io.statefun.types/int")
    ]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_the_cli_explains_bad_options():
    result = subprocess.run(
        [sys.executable, "-m", "baton.cli", "lambda", "local", "--function", "sf"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "expected NAME=MODULE:HANDLER" in result.stderr
