"""Lambda handlers on this machine, without Docker, behind the Lambda Invoke API.

`LambdaLocal` answers `POST /2015-03-31/functions/{name}/invocations` like AWS Lambda does (so
boto3 with `endpoint_url=local.url` just works) and runs every function's handler in AWS's own
runtime interface client, `python -m awslambdaric MODULE.HANDLER`, one or more processes per
function, each talking to a Runtime API server of ours on loopback (see `runtime_api`).
Invocations queue per function; a process that crashes or overruns its timeout fails the
invocation it held and is restarted.

It stays one module (~700 lines) because the Invoke API, the per-function queue and the worker
processes share one lifecycle: a worker's crash or timeout resolves the queued invocation it held.

    async with LambdaLocal({"greeter": "app:handler"}, port=0) as local:
        boto3.client("lambda", endpoint_url=local.url, ...).invoke(FunctionName="greeter", ...)

    with LambdaLocal({"greeter": "app:handler"}, port=0) as local:   # from synchronous code
        ...
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from baton.serve.runtime_api import (
    Invocation,
    InvocationQueue,
    InvocationResult,
    runtime_api_app,
)

__all__ = ["LambdaLocal", "LocalFunction", "parse_function_option"]

log = logging.getLogger(__name__)

INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"
MAX_SYNC_REQUEST_BYTES = 6_291_456
MAX_EVENT_REQUEST_BYTES = 1_048_576
DEFAULT_TIMEOUT = 300.0
DEFAULT_MEMORY_MB = 128
DEFAULT_ACCOUNT = "123456789012"

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ARN = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?$"
)
#: Environment a runtime process must not inherit: they switch awslambdaric into other modes.
_PLATFORM_ONLY_ENV = (
    "AWS_LAMBDA_MAX_CONCURRENCY",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_EXECUTION_ENV",
    "_LAMBDA_TELEMETRY_LOG_FD",
    "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET",
)


@dataclass(frozen=True)
class LocalFunction:
    """One function: its handler and (optionally) settings that differ from LambdaLocal's."""

    #: "package.module:handler", AWS-style "package.module.handler", or a file
    #: "path/to/handlers.py:handler" (imported from the file's directory).
    handler: str
    #: Directory the handler module is imported from (LAMBDA_TASK_ROOT, cwd, first on PYTHONPATH).
    task_root: str | Path | None = None
    timeout: float | None = None
    concurrency: int | None = None
    memory_mb: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, default_root: str | Path) -> tuple[Path, str]:
        """(task root, handler as awslambdaric takes it: "package.module.handler")."""
        root = Path(self.task_root or default_root)
        module, sep, attr = self.handler.rpartition(":")
        if sep and (module.endswith(".py") or "/" in module or os.sep in module):
            file = root / module
            return file.parent.resolve(), runtime_handler(f"{file.stem}:{attr}")
        return root.resolve(), runtime_handler(self.handler)


def runtime_handler(spec: str) -> str:
    """ "pkg.mod:fn" or "pkg.mod.fn" -> "pkg.mod.fn" (ValueError when malformed)."""
    module, sep, attr = spec.partition(":")
    if not sep:
        module, _, attr = spec.rpartition(".")
    parts = module.split(".") if module else []
    if not parts or not attr or not all(p.isidentifier() for p in parts) or not attr.isidentifier():
        raise ValueError(
            "expected a handler MODULE:FUNCTION (e.g. app:handler) or FILE.py:FUNCTION, "
            f"got {spec!r}"
        )
    return f"{module}.{attr}"


def parse_function_option(option: str) -> tuple[str, str]:
    """ "NAME=MODULE:HANDLER" -> (NAME, MODULE:HANDLER) (ValueError when malformed)."""
    name, sep, handler = option.partition("=")
    if not sep:
        raise ValueError(f"expected NAME=MODULE:HANDLER, got {option!r}")
    if not _NAME.match(name):
        raise ValueError(
            f"function name {name!r} is not a Lambda function name (1-64 of A-Z a-z 0-9 - _)"
        )
    LocalFunction(handler).resolve(".")
    return name, handler


def _write_line(name: str, line: str) -> None:
    sys.stderr.write(f"[{name}] {line}\n")
    sys.stderr.flush()


def _exit_reason(returncode: int) -> str:
    """Like Lambda's "Runtime exited with error: ..." reasons."""
    if returncode < 0:
        try:
            return f"signal: {signal.strsignal(-returncode) or -returncode}".lower()
        except ValueError:
            return f"signal: {-returncode}"
    return f"exit status {returncode}"


class _Worker:
    """One runtime process of a function and the Runtime API server it polls."""

    def __init__(self, function: _Function, index: int) -> None:
        self.function = function
        self.index = index
        self.process: asyncio.subprocess.Process | None = None
        self.current: Invocation | None = None
        self.reached_next = False  # the current process asked for an invocation
        self.settled = asyncio.Event()  # first start finished: ready, or init failed
        self.init_failure: InvocationResult | None = None
        self._posted_init_error: InvocationResult | None = None
        self._next_waiter: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task | None = None
        self._relay_task: asyncio.Task | None = None
        self.address = ""

    @property
    def name(self) -> str:
        return self.function.name

    async def start(self, host: str) -> None:
        self._runner = web.AppRunner(runtime_api_app(self), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        bound_host, port = self._runner.addresses[0][:2]
        self.address = f"{bound_host}:{port}"
        self._task = asyncio.create_task(self._supervise(), name=f"lambda-local {self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stop_process()
        if self._relay_task is not None:
            await asyncio.wait({self._relay_task}, timeout=2.0)
            self._relay_task.cancel()
        self._cancel_next_waiter()
        if self.current is not None:
            self._finish(InvocationResult.error(
                "Runtime.ExitError", "baton lambda local is shutting down", self.current.request_id
            ))
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # --- the RuntimeSlot protocol (called by the Runtime API app) ---

    async def next_invocation(self, request: web.Request) -> Invocation:
        if self.current is not None:  # asked for more without answering: that one is lost
            self._finish(InvocationResult.error(
                "Runtime.InvalidState", "the runtime asked for the next event without answering",
                self.current.request_id,
            ))
        if not self.reached_next:
            self.reached_next = True
            self.init_failure = None
            self.settled.set()
        self._next_waiter = asyncio.current_task()
        try:
            while True:
                invocation = await self.function.queue.get()
                transport = request.transport
                if transport is None or transport.is_closing():  # the process went away
                    self.function.queue.put_front(invocation)
                    raise web.HTTPServiceUnavailable()
                self._begin(invocation)
                return invocation
        finally:
            if self._next_waiter is asyncio.current_task():
                self._next_waiter = None

    def invocation_response(self, request_id: str, result: InvocationResult) -> bool:
        if self.current is None or self.current.request_id != request_id:
            return False
        self._finish(result)
        return True

    def init_error(self, result: InvocationResult) -> None:
        self._posted_init_error = result

    # --- invocation bookkeeping ---

    def _begin(self, invocation: Invocation) -> None:
        timeout = self.function.timeout
        invocation.deadline_ms = int((time.time() + timeout) * 1000)
        self.current = invocation
        self._timer = asyncio.get_running_loop().call_later(timeout, self._timed_out, invocation)

    def _finish(self, result: InvocationResult) -> None:
        invocation, self.current = self.current, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if invocation is not None:
            invocation.resolve(result)

    def _timed_out(self, invocation: Invocation) -> None:
        if self.current is not invocation:
            return
        timeout = self.function.timeout
        self._finish(InvocationResult.error(
            "Sandbox.Timedout",
            f"RequestId: {invocation.request_id} Error: Task timed out after {timeout:.2f} seconds",
            invocation.request_id,
        ))
        if self.process is not None and self.process.returncode is None:
            self.process.kill()  # as Lambda does: the sandbox is reset after a timeout

    def _cancel_next_waiter(self) -> None:
        if self._next_waiter is not None:
            self._next_waiter.cancel()
            self._next_waiter = None

    # --- the process ---

    async def _supervise(self) -> None:
        failures = 0
        while True:
            if self.init_failure is not None:  # retry init only when someone is waiting
                await self.function.queue.wait_pending()
            started = time.monotonic()
            try:
                self.process = await self._spawn()
            except OSError as error:
                self._init_failed(InvocationResult.error(
                    "Runtime.InvalidEntrypoint", f"cannot start the runtime: {error}"
                ))
                continue
            self._relay_task = asyncio.create_task(self._relay(self.process.stdout))
            returncode = await self.process.wait()
            await asyncio.wait({self._relay_task}, timeout=2.0)
            self._exited(returncode)
            # Crashing right after start: back off (0.1 s ... 5 s). Not after an init failure
            # that failed the queue: then the next invocation is what triggers the retry.
            demand_driven = self.init_failure is not None and not self.function.healthy()
            if time.monotonic() - started < 1.0 and not demand_driven:
                failures += 1
                await asyncio.sleep(min(0.1 * 2 ** (failures - 1), 5.0))
            else:
                failures = 0

    async def _spawn(self) -> asyncio.subprocess.Process:
        self.reached_next = False
        self._posted_init_error = None
        return await asyncio.create_subprocess_exec(
            self.function.python, "-m", "awslambdaric", self.function.handler,
            cwd=str(self.function.task_root),
            env=self.function.environment(self.address),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches baton, which then stops the runtimes
        )

    def _exited(self, returncode: int) -> None:
        self._cancel_next_waiter()
        if self.current is not None:
            request_id = self.current.request_id
            self._finish(InvocationResult.error(
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: "
                f"{_exit_reason(returncode)}",
                request_id,
            ))
            log.warning("%s: runtime exited (%s) during an invocation; restarting",
                        self.name, _exit_reason(returncode))
        if not self.reached_next:  # never got as far as asking for an event: init failed
            failure = self._posted_init_error or InvocationResult.error(
                "Runtime.ExitError",
                f"Runtime exited during init with error: {_exit_reason(returncode)}",
            )
            self._init_failed(failure)
        elif self.current is None:
            log.info("%s: runtime exited (%s); restarting", self.name, _exit_reason(returncode))

    def _init_failed(self, failure: InvocationResult) -> None:
        self.init_failure = failure
        self.settled.set()
        log.warning("%s: init failed: %s", self.name, describe_error(failure))
        if not self.function.healthy():  # each queued invocation would hit the same error
            for invocation in self.function.queue.drain():
                invocation.resolve(failure)

    async def _relay(self, stream: asyncio.StreamReader | None) -> None:
        """Copy the process's output, line by line, to the function's output sink."""
        if stream is None:
            return
        pending = b""
        while chunk := await stream.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > 65536:
                lines.append(pending)
                pending = b""
            for line in lines:
                self._emit(line)
        if pending:
            self._emit(pending)

    def _emit(self, line: bytes) -> None:
        # awslambdaric joins the lines of an error report with "\r" (one CloudWatch event)
        for piece in line.decode("utf-8", "replace").split("\r"):
            self.function.output(self.name, piece.rstrip())

    async def _stop_process(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 2.0)
        except TimeoutError:
            process.kill()
            await process.wait()


def describe_error(result: InvocationResult) -> str:
    """`"Type: message"` from an error document."""
    try:
        document = json.loads(result.payload)
        return f"{document.get('errorType')}: {document.get('errorMessage')}"
    except (ValueError, AttributeError):
        return result.payload.decode("utf-8", "replace")


class _Function:
    def __init__(self, local: LambdaLocal, name: str, spec: LocalFunction) -> None:
        self.local = local
        self.name = name
        self.spec = spec
        self.task_root, self.handler = spec.resolve(local.task_root)
        self.timeout = float(spec.timeout or local.timeout)
        self.memory_mb = int(spec.memory_mb or local.memory_mb)
        self.concurrency = int(spec.concurrency or local.concurrency)
        self.python = local.python
        self.output = local.output
        self.queue = InvocationQueue()
        self.workers = [_Worker(self, i) for i in range(self.concurrency)]
        self._stream = secrets.token_hex(16)

    def arn(self, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.local.region}:{self.local.account_id}:function:{self.name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    def environment(self, runtime_api: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ONLY_ENV}
        root = str(self.task_root)
        python_path = [root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        inherited = env.get("NO_PROXY") or env.get("no_proxy")
        no_proxy = ",".join(p for p in (inherited, "127.0.0.1,localhost") if p)
        region = self.local.region
        env.update({
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "LAMBDA_TASK_ROOT": root,
            "LAMBDA_RUNTIME_DIR": sys.prefix,
            "PYTHONPATH": os.pathsep.join(python_path),
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": no_proxy,  # the native client uses libcurl, which honours proxies
            "no_proxy": no_proxy,
            "_HANDLER": self.handler,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self._stream}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        })
        env.update(self.spec.environment)
        return env

    def submit(
        self, payload: bytes, qualifier: str | None, client_context: str | None
    ) -> Invocation:
        invocation = Invocation(payload, self.arn(qualifier), client_context)
        if all(w.init_failure is not None for w in self.workers):
            log.info("%s: retrying init for %s", self.name, invocation.request_id)
        self.queue.put(invocation)
        return invocation

    def healthy(self) -> bool:
        """Some runtime process of this function has loaded its handler."""
        return any(w.reached_next for w in self.workers)

    def status(self) -> str:
        if self.healthy():
            return "ready"
        failures = [w.init_failure for w in self.workers if w.init_failure is not None]
        if failures:
            return f"init failed: {describe_error(failures[0])}"
        return "starting"


class LambdaLocal:
    """Serve the Lambda Invoke API for local handlers (see the module docstring).

    `functions` maps a Lambda function name to a handler "module:function" (or a LocalFunction).
    `port=0` picks a free port; `url` is the endpoint to give boto3.
    """

    def __init__(
        self,
        functions: Mapping[str, str | LocalFunction],
        *,
        host: str = "127.0.0.1",
        port: int = 3001,
        concurrency: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        task_root: str | Path | None = None,
        region: str | None = None,
        account_id: str = DEFAULT_ACCOUNT,
        python: str = sys.executable,
        init_timeout: float = 60.0,
        output: Callable[[str, str], None] | None = None,
    ) -> None:
        if not functions:
            raise ValueError("LambdaLocal needs at least one function")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.host = host
        self.requested_port = port
        self.concurrency = concurrency
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.task_root = Path(task_root or os.getcwd())
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get(
            "AWS_DEFAULT_REGION") or "us-east-1"
        self.account_id = account_id
        self.python = python
        self.init_timeout = init_timeout
        self.output = output or _write_line
        self.specs: dict[str, LocalFunction] = {}
        for name, spec in functions.items():
            if not _NAME.match(name):
                raise ValueError(
                    f"function name {name!r} is not a Lambda function name "
                    "(1-64 of A-Z a-z 0-9 - _)"
                )
            spec = spec if isinstance(spec, LocalFunction) else LocalFunction(spec)
            spec.resolve(self.task_root)  # validate early
            self.specs[name] = spec
        self.port = 0
        self._functions: dict[str, _Function] = {}
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The Invoke API endpoint (boto3's `endpoint_url`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def function_arn(self, name: str) -> str:
        return self._functions[name].arn()

    def status(self) -> dict[str, str]:
        """Per function: "ready", "starting" or "init failed: Type: message"."""
        return {name: function.status() for name, function in self._functions.items()}

    def runtime_pids(self, name: str) -> list[int]:
        """Process ids of the function's live runtime processes."""
        return [
            w.process.pid for w in self._functions[name].workers
            if w.process is not None and w.process.returncode is None
        ]

    # --- lifecycle (asyncio) ---

    async def start(self) -> None:
        """Open the Invoke API, start the runtime processes, wait until they are up."""
        self._runner = web.AppRunner(
            self._invoke_app(), access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        try:
            site = web.TCPSite(self._runner, self.host, self.requested_port)
            await site.start()
            self.port = self._runner.addresses[0][1]
            for name, spec in self.specs.items():
                function = _Function(self, name, spec)
                self._functions[name] = function
                for worker in function.workers:
                    await worker.start("127.0.0.1")
        except BaseException:
            await self.stop()
            raise
        settled = [w.settled.wait() for f in self._functions.values() for w in f.workers]
        try:
            await asyncio.wait_for(asyncio.gather(*settled), self.init_timeout)
        except TimeoutError:
            log.warning(
                "runtimes still starting after %.0f s: %s", self.init_timeout, self.status()
            )

    async def stop(self) -> None:
        """Fail whatever is pending, stop the runtime processes and the servers."""
        workers = [w for f in self._functions.values() for w in f.workers]
        for function in self._functions.values():
            for invocation in function.queue.drain():
                invocation.resolve(InvocationResult.error(
                    "Runtime.ExitError", "baton lambda local is shutting down",
                    invocation.request_id,
                ))
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LambdaLocal:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- lifecycle (synchronous: an event loop on a background thread) ---

    def __enter__(self) -> LambdaLocal:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="baton-lambda-local", daemon=True)
        thread.start()
        self._thread, self._thread_loop = thread, loop
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result()
        except BaseException:
            self._stop_thread()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._thread_loop is not None:
            try:
                asyncio.run_coroutine_threadsafe(self.stop(), self._thread_loop).result()
            finally:
                self._stop_thread()

    def _stop_thread(self) -> None:
        loop, thread = self._thread_loop, self._thread
        self._thread_loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    # --- the Invoke API ---

    def _invoke_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(INVOKE_PATH, self._invoke)
        return app

    async def _invoke(self, request: web.Request) -> web.Response:
        raw_name = request.match_info["name"]
        match = _ARN.match(raw_name)
        if match is None:
            return _aws_error(
                400, "ValidationException",
                f"1 validation error detected: Value '{raw_name}' at 'functionName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern",
            )
        name, qualifier = match["name"], match["qualifier"]
        query_qualifier = request.query.get("Qualifier")
        if qualifier and query_qualifier and qualifier != query_qualifier:
            return _aws_error(
                400, "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        qualifier = qualifier or query_qualifier or None
        function = self._functions.get(name)
        if function is None:
            arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            if qualifier:
                arn += f":{qualifier}"
            return _aws_error(404, "ResourceNotFoundException", f"Function not found: {arn}")

        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            return _aws_error(
                400, "InvalidParameterValueException",
                f"Unsupported invocation type {invocation_type!r}: "
                "use RequestResponse, Event or DryRun",
            )
        payload = await request.read()
        limit = MAX_EVENT_REQUEST_BYTES if invocation_type == "Event" else MAX_SYNC_REQUEST_BYTES
        if len(payload) > limit:
            return _aws_error(
                413, "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        if not payload.strip():
            payload = b"{}"
        try:
            json.loads(payload)
        except ValueError as error:
            return _aws_error(
                400, "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
            )
        client_context = None
        if request.headers.get("X-Amz-Client-Context"):
            try:
                client_context = base64.b64decode(
                    request.headers["X-Amz-Client-Context"], validate=True
                ).decode()
                json.loads(client_context)
            except (binascii.Error, ValueError):
                return _aws_error(
                    400, "InvalidRequestContentException",
                    "Client context must be a valid Base64-encoded JSON object.",
                )
        if invocation_type == "DryRun":
            return web.Response(status=204, headers={"x-amzn-RequestId": str(uuid.uuid4())})

        invocation = function.submit(payload, qualifier, client_context)
        if invocation_type == "Event":
            invocation.result.add_done_callback(
                lambda done: self._log_event_result(name, invocation.request_id, done.result())
            )
            return web.Response(status=202, headers={"x-amzn-RequestId": invocation.request_id})
        result = await invocation.result
        headers = {
            "Content-Type": result.content_type,
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-RequestId": invocation.request_id,
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return web.Response(status=200, body=result.payload, headers=headers)

    @staticmethod
    def _log_event_result(name: str, request_id: str, result: InvocationResult) -> None:
        if result.function_error:
            log.warning("%s: async invocation %s failed: %s", name, request_id,
                        describe_error(result))


def _aws_error(status: int, error_type: str, message: str) -> web.Response:
    """An error the way the Lambda API reports it (boto3 raises `client.exceptions.<type>`)."""
    return web.json_response(
        {"Type": "User", "message": message},
        status=status,
        headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": str(uuid.uuid4())},
    )


def run_forever(local: LambdaLocal, ready: Callable[[LambdaLocal], Any]) -> None:
    """Run `local` until SIGINT/SIGTERM (for the CLI); `ready(local)` is called once it is up."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with local:
            ready(local)
            await stop.wait()

    asyncio.run(main())
