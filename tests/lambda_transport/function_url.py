"""A stand-in for a Lambda Function URL with auth type AWS_IAM, on loopback.

It verifies each request's SigV4 signature the way Lambda does: it recomputes the signature with
botocore from what arrived on the wire (method, path, query, the signed headers and the body) and
the secret of the claimed access key, checks the payload hash, the date and the credential scope,
and answers 403 otherwise. Verified requests go on to the real SDK app (`baton.serve.function_app`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from statefun import StatefulFunctions

from baton.serve import function_app

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class SignedRequest:
    access_key: str
    amz_date: str
    signed_headers: list[str]
    token: str | None


@dataclass
class FunctionUrlAuth:
    """Known credentials: access key → (secret key, session token or None)."""

    credentials: dict[str, tuple[str, str | None]]
    region: str = "us-east-1"
    service: str = "lambda"
    verified: list[SignedRequest] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def app(self, functions: StatefulFunctions) -> web.Application:
        app = function_app(functions)
        app.middlewares.append(self._middleware)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        body = await request.read()
        try:
            self.verified.append(self.verify(request, body))
        except PermissionError as problem:
            self.rejected.append(str(problem))
            return web.json_response({"Message": str(problem)}, status=403)
        return await handler(request)

    def verify(self, request: web.Request, body: bytes) -> SignedRequest:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            raise PermissionError("Forbidden: missing Authorization (the request is not signed)")
        match = _AUTHORIZATION.fullmatch(authorization)
        if match is None:
            raise PermissionError(f"Forbidden: malformed Authorization {authorization!r}")
        if (match["region"], match["service"]) != (self.region, self.service):
            raise PermissionError(
                f"Forbidden: credential scope {match['region']}/{match['service']}, expected "
                f"{self.region}/{self.service}"
            )
        if match["key"] not in self.credentials:
            raise PermissionError(
                "Forbidden: the security token included in the request is invalid"
            )
        secret, token = self.credentials[match["key"]]
        amz_date = request.headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise PermissionError(f"Forbidden: bad X-Amz-Date {amz_date!r}") from None
        if amz_date[:8] != match["date"]:
            raise PermissionError("Forbidden: X-Amz-Date does not match the credential scope")
        if abs((datetime.now(UTC) - signed_at).total_seconds()) > 300:
            raise PermissionError("Forbidden: signature expired")
        signed = match["signed"].split(";")
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            if required not in signed:
                raise PermissionError(f"Forbidden: `{required}` is not a signed header")
        if request.headers.get("X-Amz-Content-SHA256") != hashlib.sha256(body).hexdigest():
            raise PermissionError("Forbidden: X-Amz-Content-SHA256 is not the body's SHA-256")
        if token is not None and (
            request.headers.get("X-Amz-Security-Token") != token
            or "x-amz-security-token" not in signed
        ):
            raise PermissionError("Forbidden: missing or unsigned X-Amz-Security-Token")
        wire = AWSRequest(
            method=request.method,
            url=f"{request.scheme}://{request.host}{request.raw_path}",
            data=body,
            headers={name: request.headers.get(name, "") for name in signed},
        )
        wire.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(match["key"], secret, token), self.service, self.region)
        if signer.signed_headers(signer.headers_to_sign(wire)) != match["signed"]:
            raise PermissionError("Forbidden: SignedHeaders is not in canonical form")
        string_to_sign = signer.string_to_sign(wire, signer.canonical_request(wire))
        expected = signer.signature(string_to_sign, wire)
        if not hmac.compare_digest(expected, match["signature"]):
            raise PermissionError(
                "Forbidden: The request signature we calculated does not match the signature "
                "you provided."
            )
        token_sent = request.headers.get("X-Amz-Security-Token")
        return SignedRequest(match["key"], amz_date, signed, token_sent)
