"""Which region a Lambda call goes to: one rule for the runtime and the workflow bridge."""

from __future__ import annotations

from baton.aws.arns import region_of
from baton.aws.errors import AwsSetupError

LOCAL_REGION = "us-east-1"  # for a local Invoke API (`baton lambda local`, moto) with no region


class NoRegion(AwsSetupError, LookupError):
    """No region could be found for a call; the message says how to give one."""

    @classmethod
    def for_function(cls, function: str) -> NoRegion:
        return cls(
            f"no AWS region to invoke {function} in: set `region` in the endpoint, use a "
            "function ARN, or set AWS_REGION / AWS_DEFAULT_REGION or the profile's region"
        )


def resolve_region(
    function: str, *, explicit: str | None, session_region: str | None, endpoint_url: str | None
) -> str:
    """The endpoint's `region`, else the ARN's, else the AWS chain's; a local endpoint defaults.

    Raises NoRegion when a call to real AWS has no region from any of them.
    """
    region = explicit or region_of(function) or session_region
    if region:
        return region
    if endpoint_url:
        return LOCAL_REGION
    raise NoRegion.for_function(function)
