"""What a Task's `Resource` names: a StateFun function type, or a Lambda function.

- `<namespace>/<name>`: a StateFun function (it replies to its caller with a TaskResult);
- `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, a bare Lambda function
  name `<name>[:<qualifier>]`, or `arn:aws:states:::lambda:invoke` with `FunctionName`/`Payload`
  parameters: a Lambda, invoked by the Lambda bridge, so Step Functions definitions run unchanged.
"""

from __future__ import annotations

import re

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
_LAMBDA_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?"
)
_LAMBDA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?")


def is_lambda(resource: str) -> bool:
    """A Lambda ARN or name, or the lambda:invoke integration."""
    return (
        resource == LAMBDA_INVOKE
        or _LAMBDA_ARN.fullmatch(resource) is not None
        or _LAMBDA_NAME.fullmatch(resource) is not None
    )


def is_function_type(resource: str) -> bool:
    """A StateFun function type `<namespace>/<name>`."""
    parts = resource.split("/")
    return len(parts) == 2 and all(parts) and not any(c.isspace() for c in resource)


def is_supported(resource: str) -> bool:
    return is_lambda(resource) or is_function_type(resource)
