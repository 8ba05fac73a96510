"""HTTP transport: POST a ToFunction, get a FromFunction, retrying inside the call budget.

Retry rules follow the endpoint's transport (statefun-reference §3.6): OkHttp retries IO errors
and 408/409/420/429/499/5xx only; the async transport retries every failed attempt. The baton-only
`baton.transports.v1/lambda-url` transport behaves like the async one and signs every attempt with
SigV4 (a Lambda Function URL with auth type AWS_IAM).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp

from baton.module.specs import (
    AsyncTransportSpec,
    LambdaUrlTransportSpec,
    OkHttpTransportSpec,
    RetryPolicy,
    TransportSpec,
)

if TYPE_CHECKING:
    from baton.runtime.aws_signing import AwsSigner

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/octet-stream"
_OKHTTP_RETRIED = {408, 409, 420, 429, 499}
_MAX_BACKOFF_S = 5.0  # StateFun only caps by the budget; a cap keeps a recovering function snappy


class TransportError(Exception):
    """A call failed for good: the budget is spent or the failure is not retriable."""


class RetryBudget:
    """Exponential backoff within a call budget, shared by every transport (§3.6)."""

    def __init__(
        self, budget_s: float, base_s: float,
        on_failed_attempt: Callable[[str], None] | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self.budget_s = budget_s
        self._deadline = self._loop.time() + budget_s
        self._base_s = base_s
        self._on_failed_attempt = on_failed_attempt
        self.attempts = 0

    def remaining(self) -> float:
        return self._deadline - self._loop.time()

    async def failed(self, why: str, target: str) -> None:
        """Count a failed attempt, then wait before the next; TransportError once spent."""
        self.attempts += 1
        if self._on_failed_attempt is not None:
            self._on_failed_attempt(why)
        remaining = self.remaining()
        if remaining <= 0.001:
            raise TransportError(
                f"gave up after {self.attempts} attempt(s) within the call timeout of "
                f"{self.budget_s:g}s; last error: {why}"
            )
        delay = min(self._base_s * (2**self.attempts), _MAX_BACKOFF_S, remaining)
        log.info("call to %s failed (%s); retrying in %.3fs", target, why, delay)
        await asyncio.sleep(delay)


class HttpTransport:
    """Keep-alive connection pools per transport spec, and the retry loop."""

    def __init__(self) -> None:
        self._sessions: dict[TransportSpec, aiohttp.ClientSession] = {}
        self._signer: AwsSigner | None = None  # created on first lambda-url call (boto3 is slow)

    def _session(self, spec: TransportSpec) -> aiohttp.ClientSession:
        session = self._sessions.get(spec)
        if session is None:
            if isinstance(spec, (AsyncTransportSpec, LambdaUrlTransportSpec)):
                connector = aiohttp.TCPConnector(
                    limit=spec.pool_size,
                    keepalive_timeout=spec.pool_ttl.total_seconds() or None,
                )
            else:
                connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
            session = self._sessions[spec] = aiohttp.ClientSession(
                connector=connector,
                headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
                skip_auto_headers=("User-Agent",),
            )
        return session

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    async def call(
        self,
        url: str,
        spec: TransportSpec,
        body: bytes,
        on_failed_attempt: Callable[[str], None] | None = None,
    ) -> bytes:
        """POST `body` to `url`; return the body of the first good response."""
        signed = spec if isinstance(spec, LambdaUrlTransportSpec) else None
        if signed is not None:
            await self._aws_credentials()  # resolved once, before the budget starts
        okhttp = spec.retry_policy is RetryPolicy.OKHTTP
        retry = RetryBudget(spec.call.total_seconds(), 0.010 if okhttp else 0.002, on_failed_attempt)
        connect = spec.connect.total_seconds()
        session = self._session(spec)
        max_bytes = None if isinstance(spec, OkHttpTransportSpec) else spec.payload_max_bytes
        while True:
            # Signed per attempt: the signature covers X-Amz-Date, and credentials may rotate.
            headers = None if signed is None else await self._sign(url, body, signed)
            timeout = aiohttp.ClientTimeout(total=max(retry.remaining(), 0.01), sock_connect=connect)
            try:
                post = session.post(url, data=body, headers=headers, timeout=timeout)
                async with post as response:
                    status = response.status
                    payload = await response.read()
                    content_type = response.headers.get("Content-Type", "")
                why = judge_response(status, content_type, payload, okhttp, max_bytes)
                if why is None:
                    return payload
                if okhttp and not _okhttp_retries(status):
                    raise TransportError(why)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                why = f"{type(error).__name__}: {error}".rstrip(": ")
            await retry.failed(why, url)

    async def _aws_credentials(self) -> None:
        """Resolve the AWS chain's credentials (in a thread, the first time only)."""
        from baton.runtime.aws_signing import AwsSigner, SigningError  # boto3 loads slowly

        if self._signer is None:
            self._signer = AwsSigner()
        try:
            await self._signer.frozen_credentials()
        except SigningError as error:
            raise TransportError(str(error)) from None

    async def _sign(self, url: str, body: bytes, spec: LambdaUrlTransportSpec) -> dict[str, str]:
        """SigV4 headers for one attempt; missing credentials or region fail the call at once."""
        from baton.runtime.aws_signing import SigningError

        assert self._signer is not None
        try:
            return await self._signer.sign(
                url,
                body,
                {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE},
                region=spec.region,
                service=spec.service,
            )
        except SigningError as error:
            raise TransportError(str(error)) from None


def _okhttp_retries(status: int) -> bool:
    return status in _OKHTTP_RETRIED or status >= 500


def judge_response(
    status: int, content_type: str, payload: bytes, okhttp: bool, max_bytes: int | None
) -> str | None:
    """None for a good response, else why it is not."""
    if not 200 <= status < 300:
        snippet = payload[:200].decode("utf-8", "replace").strip()
        return f"HTTP {status}" + (f": {snippet}" if snippet else "")
    matches = content_type == CONTENT_TYPE if okhttp else content_type.lower() == CONTENT_TYPE
    if not matches:
        return f"wrong content type {content_type!r}; a function must reply {CONTENT_TYPE!r}"
    if max_bytes is not None and len(payload) > max_bytes:
        return f"response of {len(payload)} bytes exceeds payload_max_bytes={max_bytes}"
    return None


__all__ = ["HttpTransport", "TransportError", "OkHttpTransportSpec", "AsyncTransportSpec"]
