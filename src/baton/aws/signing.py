"""AWS credentials and SigV4 signing (for the runtime's `baton.transports.v1/lambda-url`).

A Lambda Function URL whose auth type is AWS_IAM accepts only requests signed with Signature
Version 4 for the service `lambda` (`execute-api` for an API Gateway with IAM auth). Lambda
recomputes the signature over the method, path, query, signed headers and the SHA-256 of the
body, so every request carries `X-Amz-Date`, `X-Amz-Content-SHA256` (the hex payload hash,
signed too, as Lambda does not accept unsigned payloads), `Authorization` and, for temporary
credentials, `X-Amz-Security-Token`. Credentials come from the standard AWS chain
(`boto3.Session().get_credentials()`), refreshed the way botocore refreshes them.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import BotoCoreError

from baton.aws.clients import new_session
from baton.aws.errors import CREDENTIAL_CHAIN, AwsSetupError

# https://<url-id>.lambda-url.<region>.on.aws
_FUNCTION_URL_HOST = re.compile(r"^[^.]+\.lambda-url\.([a-z0-9-]+)\.on\.aws\.?$", re.IGNORECASE)


class SigningError(AwsSetupError):
    """A request cannot be signed (no credentials, no region); retrying will not help."""


def region_from_url(url: str) -> str | None:
    """The region of a Function URL host (`*.lambda-url.<region>.on.aws`), else None."""
    match = _FUNCTION_URL_HOST.match(urlsplit(url).hostname or "")
    return match.group(1).lower() if match else None


def resolve_credentials(session: boto3.Session) -> Credentials:
    """The session's credentials from the AWS chain; SigningError naming the chain if none."""
    try:
        credentials: Credentials | None = session.get_credentials()
    except BotoCoreError as error:  # e.g. ProfileNotFound, a failing credential_process
        raise SigningError(f"resolving AWS credentials failed: {error}. {_hint()}") from None
    if credentials is None:
        raise SigningError(f"cannot sign the request: {CREDENTIAL_CHAIN}")
    return credentials


def _hint() -> str:
    return "Check AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and ~/.aws/config"


class AwsSigner:
    """Signs POSTs with SigV4, resolving credentials lazily and refreshing them as botocore does.

    The credential chain may call the network (instance metadata, SSO, STS, a credential
    process), so resolution and refreshes run in a worker thread, never on the event loop.
    """

    def __init__(self, session_factory: Callable[[], boto3.Session] = new_session) -> None:
        self._session_factory = session_factory
        self._session: boto3.Session | None = None
        self._credentials: Credentials | None = None
        self._lock = asyncio.Lock()

    async def _resolve(self) -> Credentials:
        if self._credentials is not None:
            return self._credentials
        async with self._lock:
            credentials = self._credentials
            if credentials is None:
                # Not cached while missing: credentials written later are picked up on resume.
                self._session, credentials = await asyncio.to_thread(self._load)
                self._credentials = credentials
        return credentials

    def _load(self) -> tuple[boto3.Session, Credentials]:
        try:
            session = self._session_factory()
        except BotoCoreError as error:  # e.g. AWS_PROFILE names a profile that does not exist
            raise SigningError(f"creating an AWS session failed: {error}. {_hint()}") from None
        return session, resolve_credentials(session)

    async def frozen_credentials(self) -> ReadOnlyCredentials:
        """A consistent snapshot (key, secret, token), refreshed first when botocore says so."""
        credentials = await self._resolve()
        try:
            if isinstance(credentials, RefreshableCredentials) and credentials.refresh_needed():
                frozen = await asyncio.to_thread(credentials.get_frozen_credentials)
            else:
                frozen = credentials.get_frozen_credentials()
        except BotoCoreError as error:
            raise SigningError(f"refreshing AWS credentials failed: {error}. {_hint()}") from None
        if not frozen.access_key or not frozen.secret_key:
            raise SigningError(f"cannot sign the request: {CREDENTIAL_CHAIN}")
        return frozen

    def default_region(self) -> str | None:
        return self._session.region_name if self._session is not None else None

    async def sign(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        region: str | None = None,
        service: str = "lambda",
    ) -> dict[str, str]:
        """The headers to send with `POST url` so that AWS accepts the signature.

        Region: the given one, else the Function URL host's, else the AWS chain's default.
        """
        frozen = await self.frozen_credentials()
        region = region or region_from_url(url) or self.default_region()
        if not region:
            raise SigningError(
                f"no AWS region to sign the request to {url} with: set `region` in the "
                "endpoint's transport, use a *.lambda-url.<region>.on.aws URL, or set "
                "AWS_REGION / AWS_DEFAULT_REGION or the profile's region"
            )
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={**headers, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
        )
        SigV4Auth(frozen, service, region).add_auth(request)
        return dict(request.headers.items())
