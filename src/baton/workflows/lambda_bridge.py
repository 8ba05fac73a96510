"""The task bridge for Lambda resources: a StateFun function that invokes Lambda with boto3.

A workflow Task whose Resource is a Lambda ARN (or `arn:aws:states:::lambda:invoke` with
`FunctionName`/`Payload` parameters) is sent here; the bridge invokes the function with the task
input as its JSON event and replies with the result, or with Step Functions' error convention:
error = the Lambda's `errorType`, cause = the Lambda error payload. Point it at
`baton lambda local` with `endpoint_url` (or BATON_LAMBDA_ENDPOINT_URL). Function references,
regions and clients follow `baton.aws`, like the runtime's direct-invoke transport.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

from statefun import StatefulFunctions

from baton.aws.arns import LAMBDA_INVOKE, NotALambdaFunction, parse_function
from baton.aws.clients import LambdaClients
from baton.aws.errors import AwsSetupError
from baton.workflows.messages import LAMBDA_BRIDGE, TASK_REQUEST, reply_task_result, task_result


@dataclass(frozen=True, slots=True)
class LambdaTarget:
    """What to invoke: a function name or ARN, an optional qualifier, and the payload."""

    function: str
    qualifier: str | None
    payload: Any
    wrap_result: bool  # the lambda:invoke integration returns {"Payload": ..., "StatusCode": ...}


def lambda_target(resource: str, task_input: Any) -> LambdaTarget:
    """Resolve a Task's Resource (and, for the invoke integration, its parameters)."""
    if resource == LAMBDA_INVOKE:
        if not isinstance(task_input, dict) or "FunctionName" not in task_input:
            raise ValueError("arn:aws:states:::lambda:invoke needs Parameters with FunctionName")
        return LambdaTarget(
            task_input["FunctionName"], task_input.get("Qualifier"), task_input.get("Payload"), True
        )
    # A name or ARN, maybe with :qualifier. NotALambdaFunction is a ValueError: the task fails.
    function = parse_function(resource)
    return LambdaTarget(function.unqualified, function.qualifier, task_input, False)


def _local_name(function: str) -> str:
    """A local Invoke API (`baton lambda local`) knows functions by name, not by ARN."""
    try:
        return parse_function(function).name
    except NotALambdaFunction:
        return function  # let the Invoke API say what is wrong with it


class LambdaBridge:
    """Invokes Lambda for workflow tasks; a boto3 client per region, calls run in threads."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("BATON_LAMBDA_ENDPOINT_URL")
        self.region = region
        # A task waits for its Lambda as long as Lambda runs (900 s); botocore retries 3 times.
        self._clients = LambdaClients(max_attempts=3)

    def _lambda(self, function: str) -> Any:
        """The client for `function`'s region (`baton.aws.regions.resolve_region`)."""
        client, _ = self._clients.client(
            function, region=self.region, endpoint_url=self.endpoint_url,
            connect_timeout=10, read_timeout=900,
        )
        return client

    def invoke(self, target: LambdaTarget) -> tuple[Any, str | None, str | None]:
        """Invoke synchronously; (output, error, cause)."""
        from botocore.exceptions import BotoCoreError, ClientError

        function = target.function
        if self.endpoint_url and function.startswith("arn:"):
            function = _local_name(function)
        kwargs: dict[str, Any] = {"FunctionName": function, "Payload": json.dumps(target.payload)}
        if target.qualifier:
            kwargs["Qualifier"] = target.qualifier
        try:
            response = self._lambda(target.function).invoke(**kwargs)
        except AwsSetupError as error:  # no session, credentials or region
            return None, "Lambda.SdkClientException", str(error)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ServiceException")
            return None, f"Lambda.{code}", str(error)
        except BotoCoreError as error:
            return None, "Lambda.SdkClientException", str(error)
        raw = response["Payload"].read()
        if response.get("FunctionError"):
            try:
                error_type = json.loads(raw).get("errorType") or "Exception"
            except (ValueError, AttributeError):
                error_type = "Lambda.Unknown"
            return None, error_type, raw.decode("utf-8", "replace")
        output = json.loads(raw) if raw else None
        if target.wrap_result:
            output = {"Payload": output, "StatusCode": response.get("StatusCode", 200)}
        return output, None, None

    async def __call__(self, context, message) -> None:
        request = message.as_type(TASK_REQUEST)
        task_id = request["task_id"]
        try:
            target = lambda_target(request["resource"], request.get("input"))
        except ValueError as bad_resource:
            body = task_result(task_id, error="States.Runtime", cause=str(bad_resource))
        else:
            output, failure, cause = await asyncio.to_thread(self.invoke, target)
            body = task_result(task_id, output) if failure is None else task_result(
                task_id, error=failure, cause=cause
            )
        reply_task_result(context, body)


def bind_lambda_bridge(functions: StatefulFunctions, bridge: LambdaBridge | None = None) -> None:
    """Serve the Lambda bridge in `functions`."""
    bridge = bridge or LambdaBridge()

    async def lambda_bridge(context, message):  # the SDK wants a plain 2-argument function
        await bridge(context, message)

    functions.register(LAMBDA_BRIDGE, lambda_bridge)
