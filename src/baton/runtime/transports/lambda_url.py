"""`baton.transports.v1/lambda-url`: a Lambda Function URL with auth type AWS_IAM.

The plain HTTP transport (async semantics, its own pool for this spec) with every attempt signed
with SigV4 by `baton.aws.signing`: the signature covers X-Amz-Date, and credentials may rotate,
so each attempt is signed afresh.
"""

from __future__ import annotations

from baton.aws.signing import AwsSigner, SigningError
from baton.module.specs import LambdaUrlTransportSpec
from baton.runtime.transports.base import FailedAttempt, TransportError
from baton.runtime.transports.http import BASE_HEADERS, HttpTransport


class LambdaUrlTransport:
    """Signed POSTs to a Function URL; the signer (credentials) may be shared between specs."""

    def __init__(self, spec: LambdaUrlTransportSpec, signer: AwsSigner) -> None:
        self.spec = spec
        self._signer = signer
        self._http = HttpTransport(spec)

    async def call(
        self, target: str, body: bytes, on_failed_attempt: FailedAttempt | None = None
    ) -> bytes:
        try:
            # Resolved (in a thread, the first time) before the call budget starts.
            await self._signer.frozen_credentials()
        except SigningError as error:
            raise TransportError(str(error)) from None
        return await self._http.post(target, body, on_failed_attempt, attempt_headers=self._sign)

    async def close(self) -> None:
        await self._http.close()

    async def _sign(self, url: str, body: bytes) -> dict[str, str]:
        """SigV4 headers for one attempt; missing credentials or region fail the call at once."""
        try:
            return await self._signer.sign(
                url, body, BASE_HEADERS, region=self.spec.region, service=self.spec.service
            )
        except SigningError as error:
            raise TransportError(str(error)) from None
