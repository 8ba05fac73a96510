"""Direct Lambda invocation (`baton.endpoints.v1/lambda`): Invoke API through boto3.

Each batch is sent as a synchronous `Invoke` whose payload is baton's direct-invoke envelope
(`baton.serve.envelope`); the handler answers with an HTTP-proxy-shaped response carrying the
FromFunction. boto3 is blocking, so calls run in a bounded thread pool, one client per region,
endpoint URL and timeouts. botocore's own retries are off: failed attempts are retried here like
the async transport's (2 ms × 2^n backoff, capped) within the endpoint's `call` budget. Errors
that retrying cannot fix (unknown function, access denied, invalid parameters, no credentials)
fail the call at once with a reason an operator can act on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton.module.specs import LambdaEndpointSpec
from baton.runtime.transport import RetryBudget, TransportError, judge_response
from baton.serve.envelope import direct_invoke_payload, parse_http_response

log = logging.getLogger(__name__)

MAX_CONCURRENT_INVOCATIONS = 64  # worker threads, and boto3's connection pool per client
_CONNECT_TIMEOUT_S = 20.0  # the async transport's default `connect`
_LOCAL_REGION = "us-east-1"  # for an `endpointUrl` (e.g. `baton lambda local`) with no region

# arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):\d{12}:function:")

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


class LambdaInvoker:
    """Invokes Lambda functions with a StateFun request in baton's direct-invoke envelope."""

    def __init__(self, max_concurrency: int = MAX_CONCURRENT_INVOCATIONS) -> None:
        self._max_concurrency = max_concurrency
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="baton-lambda")
        self._clients: dict[tuple[str, str | None, float, float], Any] = {}
        self._session: Any = None  # boto3.Session, created in a worker thread on first use
        self._ready: dict[tuple[LambdaEndpointSpec, str | None], tuple[Any, str]] = {}
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe; clients are

    def close(self) -> None:
        """Stop the worker threads (invocations already running finish in the background)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def call(
        self,
        endpoint: LambdaEndpointSpec,
        function_name: str,
        body: bytes,
        on_failed_attempt: Callable[[str], None] | None = None,
    ) -> bytes:
        """Invoke `function_name` with `body`; return the FromFunction bytes."""
        budget = endpoint.call.total_seconds()
        payload = direct_invoke_payload(body)
        # Setting up the client (credentials, service model) is not part of the call budget.
        ready = (endpoint, region_from_arn(function_name))
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
            except asyncio.TimeoutError:
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
            ConnectionError as BotoConnectionError,
            HTTPClientError,
            NoCredentialsError,
            NoRegionError,
            ParamValidationError,
            PartialCredentialsError,
            ReadTimeoutError,
        )

        from baton.runtime.aws_signing import CREDENTIAL_CHAIN

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
            raise TransportError(_no_region(function_name)) from None
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
        with self._lock:
            import boto3
            from botocore.exceptions import BotoCoreError

            if self._session is None:
                try:
                    self._session = boto3.Session()
                except BotoCoreError as error:  # e.g. AWS_PROFILE names a missing profile
                    raise TransportError(f"creating an AWS session failed: {error}") from None
            session = self._session
            region = (
                endpoint.region
                or region_from_arn(function_name)
                or session.region_name
                or (_LOCAL_REGION if endpoint.endpoint_url else None)
            )
            if not region:
                raise TransportError(_no_region(function_name))
            key = (region, endpoint.endpoint_url, budget, min(budget, _CONNECT_TIMEOUT_S))
            client = self._clients.get(key)
            if client is not None:
                return client, region
            client = lambda_client(
                session, region, endpoint.endpoint_url, function_name,
                connect_timeout=key[3], read_timeout=budget,
                max_pool_connections=self._max_concurrency,
            )
            self._clients[key] = client
            return client, region


def lambda_client(
    session: Any, region: str, endpoint_url: str | None, function_name: str, *,
    connect_timeout: float, read_timeout: float, max_pool_connections: int = 10,
    max_attempts: int = 0,
) -> Any:
    """A boto3 Lambda client; unsigned for a local Invoke API when the AWS chain has nothing."""
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    from baton.runtime.aws_signing import CREDENTIAL_CHAIN

    options: dict[str, Any] = {}
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise TransportError(f"resolving AWS credentials failed: {error}") from None
    if credentials is None:
        if not endpoint_url:
            raise TransportError(f"cannot invoke {function_name}: {CREDENTIAL_CHAIN}")
        # A local Invoke API (`baton lambda local`) needs no credentials.
        options["signature_version"] = UNSIGNED
    config = Config(
        retries={"max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        **options,
    )
    return session.client("lambda", region_name=region, endpoint_url=endpoint_url, config=config)


def region_from_arn(function_name: str) -> str | None:
    """The region of a function ARN (`arn:aws:lambda:<region>:…`), else None."""
    match = _ARN.match(function_name)
    return match.group(1) if match else None


def _no_region(function_name: str) -> str:
    return (
        f"no AWS region to invoke {function_name} in: set `region` in the endpoint, use a "
        "function ARN, or set AWS_REGION / AWS_DEFAULT_REGION or the profile's region"
    )


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
