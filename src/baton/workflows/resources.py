"""What a Task's `Resource` names: a StateFun function type, or a Lambda function.

- `<namespace>/<name>`: a StateFun function (it replies to its caller with a TaskResult);
- `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, a bare Lambda function
  name `<name>[:<qualifier>]`, or `arn:aws:states:::lambda:invoke` with `FunctionName`/`Payload`
  parameters: a Lambda, invoked by the Lambda bridge, so Step Functions definitions run unchanged.
"""

from __future__ import annotations

from baton.aws.arns import LAMBDA_INVOKE, is_lambda_function

__all__ = ["LAMBDA_INVOKE", "is_function_type", "is_lambda", "is_supported"]


def is_lambda(resource: str) -> bool:
    """A Lambda function (`baton.aws.arns`: ARN, partial ARN or name), or the lambda:invoke
    integration."""
    return resource == LAMBDA_INVOKE or is_lambda_function(resource)


def is_function_type(resource: str) -> bool:
    """A StateFun function type `<namespace>/<name>`."""
    parts = resource.split("/")
    return len(parts) == 2 and all(parts) and not any(c.isspace() for c in resource)


def is_supported(resource: str) -> bool:
    return is_lambda(resource) or is_function_type(resource)
