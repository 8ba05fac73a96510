"""Plain HTTP: POST a ToFunction, get a FromFunction, retrying inside the call budget.

Retry rules follow the transport spec (statefun-reference §3.6): OkHttp retries IO errors and
408/409/420/429/499/5xx only; the async transport retries every failed attempt. One instance per
transport spec, so endpoints sharing a spec share its keep-alive connection pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import aiohttp

from baton.module.specs import (
    AsyncTransportSpec,
    LambdaUrlTransportSpec,
    OkHttpTransportSpec,
    RetryPolicy,
    TransportSpec,
)
from baton.runtime.observability.tracing import TRACEPARENT
from baton.runtime.transports.base import (
    CONTENT_TYPE,
    FailedAttempt,
    RetryBudget,
    TransportError,
    judge_response,
)
from baton.runtime.transports.keepalive import KeepAlivePool, plain_http_target

BASE_HEADERS: Mapping[str, str] = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
_BASE_LINES = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in BASE_HEADERS.items())
_OKHTTP_RETRIED = {408, 409, 420, 429, 499}

AttemptHeaders = Callable[[str, bytes], Awaitable[Mapping[str, str]]]
"""Extra headers computed afresh for each attempt of a POST of `body` to `url` (a composing
transport's hook, e.g. a signature covering the attempt's time); may raise TransportError."""


class HttpTransport:
    """One transport spec's keep-alive connection pool, and the retry loop."""

    def __init__(self, spec: TransportSpec) -> None:
        # A lambda-url spec is accepted too: it has the async transport's pool and retry rules.
        self.spec = spec
        # Read once: every call needs them.
        self._okhttp = spec.retry_policy is RetryPolicy.OKHTTP
        self._call_s = spec.call.total_seconds()
        self._connect_s = spec.connect.total_seconds()
        self._max_bytes = None if isinstance(spec, OkHttpTransportSpec) else spec.payload_max_bytes
        self._session: aiohttp.ClientSession | None = None  # opened on the first call
        self._lean: KeepAlivePool | None = None  # for plain-http URLs, opened on the first call

    async def call(
        self, target: str, body: bytes, on_failed_attempt: FailedAttempt | None = None
    ) -> bytes:
        """POST `body` to the URL `target`; return the body of the first good response."""
        return await self.post(target, body, on_failed_attempt)

    async def post(
        self,
        url: str,
        body: bytes,
        on_failed_attempt: FailedAttempt | None = None,
        *,
        attempt_headers: AttemptHeaders | None = None,
    ) -> bytes:
        """`call`, with `attempt_headers` added to every attempt."""
        okhttp, connect, max_bytes = self._okhttp, self._connect_s, self._max_bytes
        retry = RetryBudget(self._call_s, 0.010 if okhttp else 0.002, on_failed_attempt)
        # Plain HTTP without per-attempt headers (a signature) takes the lean client.
        lean = plain_http_target(url) if attempt_headers is None else None
        while True:
            traceparent = TRACEPARENT.get()
            # Outside the try: a hook's TransportError fails the call at once.
            headers = None if attempt_headers is None else await attempt_headers(url, body)
            try:
                if lean is not None:
                    extra = _BASE_LINES
                    if traceparent is not None:
                        extra += f"traceparent: {traceparent}\r\n".encode("latin-1")
                    deadline = max(retry.deadline, asyncio.get_running_loop().time() + 0.01)
                    status, content_type, payload = await self._lean_pool().post(
                        lean, extra, body, connect, deadline)
                else:
                    status, content_type, payload = await self._aiohttp_post(
                        url, body, headers, traceparent, retry.remaining(), connect)
                why = judge_response(status, content_type, payload, okhttp, max_bytes)
                if why is None:
                    return payload
                if okhttp and not _okhttp_retries(status):
                    raise TransportError(why)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                why = f"{type(error).__name__}: {error}".rstrip(": ")
            await retry.failed(why, url)

    async def _aiohttp_post(
        self, url: str, body: bytes, headers: Mapping[str, str] | None,
        traceparent: str | None, remaining: float, connect: float,
    ) -> tuple[int, str, bytes]:
        if traceparent is not None:
            headers = {**(headers or {}), "traceparent": traceparent}
        timeout = aiohttp.ClientTimeout(total=max(remaining, 0.01), sock_connect=connect)
        async with self._pool().post(url, data=body, headers=headers, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.read()

    def _lean_pool(self) -> KeepAlivePool:
        if self._lean is None:
            spec = self.spec
            if isinstance(spec, (AsyncTransportSpec, LambdaUrlTransportSpec)):
                self._lean = KeepAlivePool(spec.pool_size, spec.pool_ttl.total_seconds() or None)
            else:
                self._lean = KeepAlivePool(None, 60.0)
        return self._lean

    async def close(self) -> None:
        if self._lean is not None:
            self._lean.close()
            self._lean = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:
            spec = self.spec
            if isinstance(spec, (AsyncTransportSpec, LambdaUrlTransportSpec)):
                connector = aiohttp.TCPConnector(
                    limit=spec.pool_size,
                    keepalive_timeout=spec.pool_ttl.total_seconds() or None,
                )
            else:
                connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=dict(BASE_HEADERS),
                skip_auto_headers=("User-Agent",),
                # StateFun's OkHttp client keeps no cookies either; a jar costs a lookup per call.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session


def _okhttp_retries(status: int) -> bool:
    return status in _OKHTTP_RETRIED or status >= 500


__all__ = ["AttemptHeaders", "HttpTransport"]
