"""Expose official-SDK functions: over HTTP (aiohttp) or as an AWS Lambda handler."""

from baton.serve.http import function_app

__all__ = ["function_app"]
