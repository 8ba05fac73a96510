"""boto3 sessions and clients: the one place baton creates them.

Everything that talks to AWS (the runtime's direct Invoke, the workflow Lambda bridge, SigV4
signing, `baton lambda deploy`) gets its session and clients here. boto3 takes a noticeable time
to import, so it loads on first use, never when this module is imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from baton.aws.errors import CREDENTIAL_CHAIN, AwsSetupError
from baton.aws.regions import resolve_region

if TYPE_CHECKING:
    import boto3


def new_session(
    region: str | None = None, *, access_key_id: str | None = None,
    secret_access_key: str | None = None, profile: str | None = None,
    credentials_file: str | None = None,
) -> boto3.Session:
    """A session on the standard AWS chain (environment, profile, SSO, container/instance role).

    Static keys, or a named profile (optionally from its own credentials file), replace the
    chain's credentials, as StateFun's `awsCredentials` `basic` and `profile` do.
    botocore errors (e.g. ProfileNotFound) propagate: each caller words them for its own users.
    """
    import boto3
    import botocore.session

    core = botocore.session.Session()
    if credentials_file is not None:
        core.set_config_variable("credentials_file", credentials_file)
    return boto3.session.Session(
        aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
        profile_name=profile, region_name=region, botocore_session=core,
    )


def service_client(
    session: Any, service: str, region: str, config: Any = None, endpoint_url: str | None = None
) -> Any:
    """A client for any AWS service on `session` (typed loosely: boto3's stubs want literals)."""
    return session.client(service, region_name=region, config=config, endpoint_url=endpoint_url)


def lambda_client(
    session: Any, region: str, endpoint_url: str | None, function_name: str, *,
    connect_timeout: float, read_timeout: float, max_pool_connections: int = 10,
    max_attempts: int = 0,
) -> Any:
    """A boto3 Lambda client; unsigned for a local Invoke API when the AWS chain has nothing.

    AwsSetupError when credentials cannot be resolved, or there are none for real AWS.
    """
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    options: dict[str, Any] = {}
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise AwsSetupError(f"resolving AWS credentials failed: {error}") from None
    if credentials is None:
        if not endpoint_url:
            raise AwsSetupError(f"cannot invoke {function_name}: {CREDENTIAL_CHAIN}")
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


class LambdaClients:
    """Lambda clients on one AWS-chain session: one per region, endpoint URL and timeouts.

    Used from worker threads (boto3 blocks), so it is thread-safe: boto3 sessions are not,
    its clients are. A failed setup (no session, credentials or region) is not cached, so
    credentials configured later are picked up by the next call.
    """

    def __init__(
        self, *, max_pool_connections: int = 10, max_attempts: int = 0,
        session_factory: Callable[[], Any] = new_session,
    ) -> None:
        self._max_pool_connections = max_pool_connections
        self._max_attempts = max_attempts
        self._session_factory = session_factory
        self._session: Any = None
        self._clients: dict[tuple[str, str | None, float, float], Any] = {}
        self._lock = threading.Lock()

    def client(
        self, function: str, *, region: str | None, endpoint_url: str | None,
        connect_timeout: float, read_timeout: float,
    ) -> tuple[Any, str]:
        """The client to invoke `function` with, and the region it resolved (`resolve_region`).

        AwsSetupError (NoRegion among them) when it cannot be created.
        """
        from botocore.exceptions import BotoCoreError

        with self._lock:
            if self._session is None:
                try:
                    self._session = self._session_factory()
                except BotoCoreError as error:  # e.g. AWS_PROFILE names a missing profile
                    raise AwsSetupError(f"creating an AWS session failed: {error}") from None
            session = self._session
            region = resolve_region(
                function, explicit=region, session_region=session.region_name,
                endpoint_url=endpoint_url,
            )
            key = (region, endpoint_url, connect_timeout, read_timeout)
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = lambda_client(
                    session, region, endpoint_url, function,
                    connect_timeout=connect_timeout, read_timeout=read_timeout,
                    max_pool_connections=self._max_pool_connections,
                    max_attempts=self._max_attempts,
                )
            return client, region
