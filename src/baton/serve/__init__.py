"""Expose official-SDK functions: over HTTP (aiohttp) or as an AWS Lambda handler.

The Lambda handler is imported eagerly (it costs only the SDK); the rest loads on first use, so
a Lambda cold start does not import aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from baton.aws.envelope import (
    ProxyResponse,
    direct_invoke_payload,
    http_response,
    parse_http_response,
)
from baton.serve.aws_lambda import LambdaHandler, lambda_handler

if TYPE_CHECKING:
    from baton.serve.http import function_app
    from baton.serve.lambda_local import LambdaLocal, LocalFunction

_LAZY = {
    "function_app": "baton.serve.http",
    "LambdaLocal": "baton.serve.lambda_local",
    "LocalFunction": "baton.serve.lambda_local",
}

__all__ = [
    "LambdaHandler",
    "LambdaLocal",
    "LocalFunction",
    "ProxyResponse",
    "direct_invoke_payload",
    "function_app",
    "http_response",
    "lambda_handler",
    "parse_http_response",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'baton.serve' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
