"""Errors and operator hints shared by everything in `baton.aws`."""

from __future__ import annotations

CREDENTIAL_CHAIN = (
    "the standard AWS credential chain found no credentials: set AWS_PROFILE to a profile in "
    "~/.aws/config or ~/.aws/credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus "
    "AWS_SESSION_TOKEN for temporary credentials), or run `aws sso login` / `aws configure`, or "
    "run where a container, instance or web-identity role provides them"
)


class AwsSetupError(Exception):
    """No session, credentials or region for a call: retrying cannot help, the message says why.

    Callers turn it into their own failure (a parked address, a failed workflow task).
    """
