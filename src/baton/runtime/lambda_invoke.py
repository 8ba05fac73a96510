"""Direct Lambda invocation (`baton.endpoints.v1/lambda`): Invoke API through boto3."""

from __future__ import annotations

from collections.abc import Callable

from baton.module.specs import LambdaEndpointSpec
from baton.runtime.transport import TransportError


class LambdaInvoker:
    """Invokes Lambda functions with a StateFun request in baton's direct-invoke envelope."""

    async def call(
        self,
        endpoint: LambdaEndpointSpec,
        function_name: str,
        body: bytes,
        on_failed_attempt: Callable[[str], None] | None = None,
    ) -> bytes:
        """Invoke `function_name` with `body`; return the FromFunction bytes."""
        raise TransportError("direct Lambda invocation is not implemented yet")
