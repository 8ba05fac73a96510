"""The task bridge for Lambda resources: a StateFun function that invokes Lambda with boto3.

A workflow Task whose Resource is a Lambda ARN (or `arn:aws:states:::lambda:invoke` with
`FunctionName`/`Payload` parameters) is sent here; the bridge invokes the function with the task
input as its JSON event and replies with the result, or with Step Functions' error convention:
error = the Lambda's `errorType`, cause = the Lambda error payload. Point it at
`baton lambda local` with `endpoint_url` (or BATON_LAMBDA_ENDPOINT_URL).
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any

from statefun import StatefulFunctions

from baton.runtime.lambda_invoke import lambda_client, region_from_arn
from baton.runtime.transport import TransportError
from baton.workflows.resources import LAMBDA_INVOKE
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
    if not resource.startswith("arn:"):  # a function name, maybe with :qualifier
        name, _, qualifier = resource.partition(":")
        return LambdaTarget(name, qualifier or None, task_input, False)
    # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    parts = resource.split(":")
    qualifier = parts[7] if len(parts) > 7 else None
    return LambdaTarget(":".join(parts[:7]), qualifier, task_input, False)


class LambdaBridge:
    """Invokes Lambda for workflow tasks; a boto3 client per region, calls run in threads."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("BATON_LAMBDA_ENDPOINT_URL")
        self.region = region
        self._session = None
        self._clients: dict[str, Any] = {}

    def _lambda(self, function: str):
        import boto3

        if self._session is None:
            self._session = boto3.Session()
        region = (
            self.region or region_from_arn(function) or self._session.region_name or "us-east-1"
        )
        client = self._clients.get(region)
        if client is None:
            client = self._clients[region] = lambda_client(
                self._session, region, self.endpoint_url, function,
                connect_timeout=10, read_timeout=900, max_attempts=3,
            )
        return client

    def invoke(self, target: LambdaTarget) -> tuple[Any, str | None, str | None]:
        """Invoke synchronously; (output, error, cause)."""
        from botocore.exceptions import BotoCoreError, ClientError

        function = target.function
        if self.endpoint_url and function.startswith("arn:"):
            function = function.rsplit(":", 1)[-1]  # a local Invoke API knows functions by name
        kwargs: dict[str, Any] = {"FunctionName": function, "Payload": json.dumps(target.payload)}
        if target.qualifier:
            kwargs["Qualifier"] = target.qualifier
        try:
            response = self._lambda(target.function).invoke(**kwargs)
        except TransportError as error:  # no credentials, no session
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
