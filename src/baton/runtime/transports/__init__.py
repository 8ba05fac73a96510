"""How the invoker reaches a function: one `Transport` protocol, one implementation per kind.

`base` (the protocol, errors, retry budget), `http` (plain HTTP), `lambda_url` (SigV4-signed
Function URLs), `lambda_invoke` (Lambda's Invoke API), `in_process` (an SDK handler called
directly) and `factory` (which one an endpoint uses). The AWS ones load boto3, so they are not
imported here.
"""

from baton.runtime.transports.base import FailedAttempt, Transport, TransportError
from baton.runtime.transports.factory import TransportFactory

__all__ = ["FailedAttempt", "Transport", "TransportError", "TransportFactory"]
