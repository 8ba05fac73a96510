"""Direct Lambda invocation (`baton.endpoints.v1/lambda`): Invoke API through boto3.

Each batch is sent as a synchronous `Invoke` whose payload is baton's direct-invoke envelope
(`baton.aws.envelope`); the handler answers with an HTTP-proxy-shaped response carrying the
FromFunction. boto3 is blocking, so calls run in a bounded thread pool shared by every Lambda
endpoint, with one client per region, endpoint URL and timeouts (`baton.aws.clients`).
botocore's own retries are off: failed attempts are retried here like the async transport's
(2 ms × 2^n backoff, capped) within the endpoint's `call` budget. Errors that retrying cannot
fix (unknown function, access denied, invalid parameters, no credentials) fail the call at once
with a reason an operator can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton.aws.arns import region_of
from baton.aws.clients import LambdaClients
from baton.aws.envelope import direct_invoke_payload, parse_http_response
from baton.aws.errors import CREDENTIAL_CHAIN, AwsSetupError
from baton.aws.regions import NoRegion
from baton.module.specs import LambdaEndpointSpec
from baton.runtime.transports.base import FailedAttempt, RetryBudget, TransportError, judge_response

log = logging.getLogger(__name__)

MAX_CONCURRENT_INVOCATIONS = 64  # worker threads, and boto3's connection pool per client
_CONNECT_TIMEOUT_S = 20.0  # the async transport's default `connect`

# Retried: throttling, conflicts (function being updated), timeouts and 5xx service errors...
_RETRIED_STATUS = {408, 409, 429}
# ...except 5xx errors that describe a broken function configuration, which retrying cannot fix.
_PERMANENT_CODES = {
    "EFSMountConnectivityException",
    "EFSMountFailureException",
    "EFSIOException",
    "InvalidRuntimeException",
    "InvalidSecurityGroupIDException",
    "InvalidSubnetIDException",
    "InvalidZipFileException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
    "RecursiveInvocationException",
}
_ACCESS_CODES = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
}


class _FailedAttempt(Exception):
    """One attempt failed in a way that another attempt may not."""


class LambdaInvokeTransport:
    """The `Transport` of one `baton.endpoints.v1/lambda` endpoint, on a shared LambdaInvoker."""

    def __init__(self, endpoint: LambdaEndpointSpec, invoker: LambdaInvoker) -> None:
        self.endpoint = endpoint
        self._invoker = invoker

    async def call(
        self, target: str, body: bytes, on_failed_attempt: FailedAttempt | None = None
    ) -> bytes:
        """Invoke the function named `target` (`functionName` with the function's name in)."""
        return await self._invoker.call(self.endpoint, target, body, on_failed_attempt)

    async def close(self) -> None:
        """Nothing of its own: the shared invoker is closed by whoever created it."""


class LambdaInvoker:
    """Invokes Lambda functions with a StateFun request in baton's direct-invoke envelope.

    One per runtime, shared by every Lambda endpoint: its thread pool bounds the concurrent
    invocations of them all.
    """

    def __init__(self, max_concurrency: int = MAX_CONCURRENT_INVOCATIONS) -> None:
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="baton-lambda")
        # The session is created in a worker thread on first use; boto3's pool matches ours.
        self._clients = LambdaClients(max_pool_connections=max_concurrency)
        self._ready: dict[tuple[LambdaEndpointSpec, str | None], tuple[Any, str]] = {}

    def close(self) -> None:
        """Stop the worker threads (invocations already running finish in the background)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def call(
        self,
        endpoint: LambdaEndpointSpec,
        function_name: str,
        body: bytes,
        on_failed_attempt: FailedAttempt | None = None,
    ) -> bytes:
        """Invoke `function_name` with `body`; return the FromFunction bytes."""
        budget = endpoint.call.total_seconds()
        payload = direct_invoke_payload(body)
        # Setting up the client (credentials, service model) is not part of the call budget.
        ready = (endpoint, region_of(function_name))
        if (setup := self._ready.get(ready)) is None:
            setup = await self._submit(self._client, endpoint, function_name, budget)
            self._ready[ready] = setup
        client, region = setup
        retry = RetryBudget(budget, 0.002, on_failed_attempt)
        why = ""
        while True:
            future = self._submit(
                self._invoke, client, region, endpoint, function_name, payload
            )
            try:
                reply = await asyncio.wait_for(future, timeout=max(retry.remaining(), 0.01))
                body_or_why = _judge_reply(*reply)
                if isinstance(body_or_why, bytes):
                    return body_or_why
                why = body_or_why
            except _FailedAttempt as error:
                why = str(error)
            except TimeoutError:
                raise TransportError(
                    f"gave up after {retry.attempts + 1} attempt(s) within the call timeout of "
                    f"{budget:g}s; the last attempt got no reply in time"
                    + (f", the one before failed: {why}" if why else
                       "; raise `call` if the function needs longer")
                ) from None
            await retry.failed(why, function_name)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run `fn(*args)` in a worker thread."""
        try:
            return asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except RuntimeError as error:  # shut down
            raise TransportError(f"the Lambda invoker is closed ({error})") from None

    # --- in a worker thread ----------------------------------------------------------------

    def _invoke(
        self,
        client: Any,
        region: str,
        endpoint: LambdaEndpointSpec,
        function_name: str,
        payload: bytes,
    ) -> tuple[int, str | None, bytes]:
        """One synchronous Invoke: (status code, FunctionError, payload bytes)."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            HTTPClientError,
            NoCredentialsError,
            NoRegionError,
            ParamValidationError,
            PartialCredentialsError,
            ReadTimeoutError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        request: dict[str, Any] = {"FunctionName": function_name, "Payload": payload}
        if endpoint.qualifier:
            request["Qualifier"] = endpoint.qualifier
        try:
            response = client.invoke(**request)
            data = response["Payload"].read()
        except ClientError as error:
            raise _client_error(error, function_name, endpoint.qualifier, region) from None
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise TransportError(
                f"cannot sign the Invoke request ({error}): {CREDENTIAL_CHAIN}"
            ) from None
        except ParamValidationError as error:
            raise TransportError(
                f"boto3 rejected the Invoke parameters for {function_name!r}: {error}. "
                "Check `functionName` and `qualifier` in the module.yaml."
            ) from None
        except NoRegionError:
            raise TransportError(str(NoRegion.for_function(function_name))) from None
        except ReadTimeoutError as error:
            raise _FailedAttempt(f"read timeout: {error}") from None
        except (BotoConnectionError, HTTPClientError) as error:
            raise _FailedAttempt(f"{type(error).__name__}: {error}") from None
        except BotoCoreError as error:
            raise _FailedAttempt(f"{type(error).__name__}: {error}") from None
        return response.get("StatusCode", 0), response.get("FunctionError"), data

    def _client(
        self, endpoint: LambdaEndpointSpec, function_name: str, budget: float
    ) -> tuple[Any, str]:
        """The boto3 client for this endpoint's region and URL (created once), and the region."""
        try:
            return self._clients.client(
                function_name, region=endpoint.region, endpoint_url=endpoint.endpoint_url,
                connect_timeout=min(budget, _CONNECT_TIMEOUT_S), read_timeout=budget,
            )
        except AwsSetupError as error:  # no session, credentials or region
            raise TransportError(str(error)) from None


def _judge_reply(status: int, function_error: str | None, payload: bytes) -> bytes | str:
    """The FromFunction bytes of a good Invoke result, else why it is not (retriable)."""
    if function_error:
        return f"the function failed ({function_error}): {_function_error(payload)}"
    if status != 200:
        return f"Invoke returned status {status} (expected 200 for a synchronous invocation)"
    try:
        proxy = parse_http_response(payload)
    except (ValueError, TypeError, KeyError) as error:
        return (
            f"the function's reply is not an HTTP-proxy response ({error}); "
            "is it served by baton's Lambda handler?"
        )
    why = judge_response(proxy.status, proxy.content_type, proxy.body, okhttp=False, max_bytes=None)
    return proxy.body if why is None else why


def _function_error(payload: bytes) -> str:
    """`errorType: errorMessage` from Lambda's error payload, else its first bytes."""
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if isinstance(data, dict) and ("errorMessage" in data or "errorType" in data):
        return f"{data.get('errorType', 'Error')}: {data.get('errorMessage', '')}".strip()
    return payload[:300].decode("utf-8", "replace").strip() or "(no details)"


def _client_error(
    error: Any, function_name: str, qualifier: str | None, region: str
) -> Exception:
    """A `_FailedAttempt` for errors another attempt may fix, else a TransportError."""
    response = error.response
    code = response.get("Error", {}).get("Code", "") or "Unknown"
    message = response.get("Error", {}).get("Message", "") or str(error)
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    what = f"{code} (HTTP {status}): {message}"
    if code not in _PERMANENT_CODES and (status in _RETRIED_STATUS or status >= 500):
        if code == "TooManyRequestsException" and (reason := response.get("Reason")):
            what += f" [{reason}]"
        return _FailedAttempt(f"Lambda throttled or failed the call: {what}")
    target = f"{function_name}{':' + qualifier if qualifier else ''} in {region}"
    if code == "ResourceNotFoundException":
        return TransportError(
            f"Lambda function {target} does not exist ({what}). Deploy it, or fix "
            "`functionName`, `qualifier` or `region` in the module.yaml."
        )
    if code in _ACCESS_CODES or status == 403:
        return TransportError(
            f"access to Lambda function {target} was denied ({what}). The credentials from the "
            "AWS chain need lambda:InvokeFunction on it; check AWS_PROFILE / AWS_ACCESS_KEY_ID."
        )
    if code == "RequestTooLargeException" or status == 413:
        return TransportError(
            f"the request to {target} is too large for a synchronous Invoke ({what}); lower "
            "`maxNumBatchRequests` or keep less state per address."
        )
    return TransportError(f"Lambda rejected the Invoke of {target}: {what}")
