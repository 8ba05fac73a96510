"""The boto3 Kinesis client of a Kinesis ingress or egress, from its `awsRegion`/`awsCredentials`.

As in StateFun (§1.10): region `default` is the AWS chain's (`AWS_REGION`, the profile),
`specific` names one, `custom-endpoint` names one and an endpoint URL (e.g. a local Kinesis
such as moto); credentials `default` are the standard chain's, `basic` static keys, `profile` a
named profile (from `profilePath` when given). `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_KINESIS`
also point the client elsewhere, as for every boto3 client.

`clientConfigProperties` are AWS SDK client settings in StateFun (Java `ClientConfiguration`
for the ingress, the KPL's for the egress); the ones with a boto3 equivalent are applied, the
others are reported once and ignored.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from baton.aws.clients import new_session, service_client
from baton.aws.errors import CREDENTIAL_CHAIN, AwsSetupError
from baton.aws.regions import LOCAL_REGION
from baton.module.specs import AwsCredentials, AwsRegion

log = logging.getLogger(__name__)

# clientConfigProperties (ClientConfiguration / KPL names) → botocore Config; times in ms.
_TIMEOUTS_MS = {
    "SocketTimeout": "read_timeout", "RequestTimeout": "read_timeout",
    "ConnectionTimeout": "connect_timeout", "ConnectTimeout": "connect_timeout",
}
_MAX_CONNECTIONS = "MaxConnections"
_MAX_ERROR_RETRY = "MaxErrorRetry"
# Throttling: retried with backoff by the reader and the publisher, never fatal.
THROTTLING = frozenset({
    "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException",
    "KMSThrottlingException", "RequestLimitExceeded",
})


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError (e.g. ExpiredIteratorException), else ""."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def kinesis_client(
    what: str, region: AwsRegion, credentials: AwsCredentials, properties: dict[str, str],
    *, pool: int = 10,
) -> Any:
    """A Kinesis client for `what` (e.g. "Kinesis ingress example/in"), or AwsSetupError."""
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = new_session(
            region.id, access_key_id=credentials.access_key_id,
            secret_access_key=credentials.secret_access_key, profile=credentials.profile_name,
            credentials_file=credentials.profile_path,
        )
        found = session.get_credentials()
    except BotoCoreError as error:  # e.g. the profile does not exist
        raise AwsSetupError(f"{what}: awsCredentials: {error}") from None
    endpoint = region.endpoint
    local = endpoint or os.environ.get("AWS_ENDPOINT_URL_KINESIS") or os.environ.get("AWS_ENDPOINT_URL")
    # botocore reads AWS_DEFAULT_REGION and the profile; the AWS SDKs StateFun uses read AWS_REGION.
    name = (region.id or session.region_name or os.environ.get("AWS_REGION")
            or (LOCAL_REGION if local else None))
    if name is None:
        raise AwsSetupError(
            f"{what}: no AWS region: set `awsRegion: {{type: specific, id: us-east-1}}` (or "
            "`custom-endpoint` with `endpoint` and `id`), or AWS_REGION / the profile's region"
        )
    options: dict[str, Any] = {"max_pool_connections": pool, "retries": {"mode": "standard"}}
    if found is None:
        if not local:
            raise AwsSetupError(f"{what}: {CREDENTIAL_CHAIN}")
        options["signature_version"] = UNSIGNED  # a local Kinesis may need no credentials
    ignored = []
    for key, value in properties.items():
        setting = key[:1].upper() + key[1:]  # StateFun lower-cases the first letter itself
        try:
            if setting in _TIMEOUTS_MS:
                options[_TIMEOUTS_MS[setting]] = int(value) / 1000
            elif setting == _MAX_CONNECTIONS:
                options["max_pool_connections"] = int(value)
            elif setting == _MAX_ERROR_RETRY:
                options["retries"] = {"mode": "standard", "total_max_attempts": int(value) + 1}
            else:
                ignored.append(key)
        except ValueError:
            raise AwsSetupError(
                f"{what}: clientConfigProperties {key}: {value!r} is not a whole number"
            ) from None
    if ignored:
        log.info("%s: clientConfigProperties %s have no boto3 equivalent; ignored",
                 what, ", ".join(sorted(ignored)))
    return service_client(session, "kinesis", name, Config(**options), endpoint_url=endpoint)
