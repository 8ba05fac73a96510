"""In-process: hand the ToFunction straight to an official-SDK handler, no HTTP, no threads.

For tests (and `baton.testing`): the functions run on the runtime's own event loop, so a test
drives a whole runtime without sockets. The SDK routes by the request's target address, so the
`target` URL is only used in messages.
"""

from __future__ import annotations

from statefun import RequestReplyHandler, StatefulFunctions

from baton.runtime.transports.base import FailedAttempt, TransportError


class InProcessTransport:
    """Calls `RequestReplyHandler.handle_async` directly."""

    def __init__(self, functions: StatefulFunctions | RequestReplyHandler) -> None:
        self.handler = (
            RequestReplyHandler(functions) if isinstance(functions, StatefulFunctions) else functions
        )

    async def call(
        self, target: str, body: bytes, on_failed_attempt: FailedAttempt | None = None
    ) -> bytes:
        """The handler's reply; a function that raises fails the call at once.

        Not retried: the same code would fail the same way, and a test wants the error now.
        The failed attempt is still reported, so the metrics count it as HTTP would.
        """
        try:
            return await self.handler.handle_async(body)
        except Exception as error:
            why = f"{type(error).__name__}: {error}".rstrip(": ")
            if on_failed_attempt is not None:
                on_failed_attempt(why)
            raise TransportError(f"the in-process function failed: {why}") from error

    async def close(self) -> None:
        """Nothing to release."""
