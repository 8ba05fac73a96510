"""How StateFun bytes travel through Lambda's JSON payloads (both sides: the runtime's direct
Invoke transport writes requests and reads replies, the serve handler does the opposite).

Requests come as a Function URL / HTTP API (payload 2.0) or API Gateway REST proxy event with
a base64 body, or, for direct `Invoke`, as baton's envelope `{"baton.statefun": "v1", "body":
"<base64 ToFunction>"}`. Every reply has the HTTP-proxy shape, so one handler serves all three:
`{"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
"isBase64Encoded": true, "body": "<base64 FromFunction>"}`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

DIRECT_INVOKE_KEY = "baton.statefun"
DIRECT_INVOKE_VERSION = "v1"
CONTENT_TYPE = "application/octet-stream"


def direct_invoke_payload(body: bytes) -> bytes:
    """The JSON payload for a direct `Invoke` carrying a serialized ToFunction."""
    return json.dumps(
        {DIRECT_INVOKE_KEY: DIRECT_INVOKE_VERSION, "body": base64.b64encode(body).decode()}
    ).encode()


def http_response(status: int, body: bytes, content_type: str = CONTENT_TYPE) -> dict[str, Any]:
    """A Lambda proxy-integration response with a base64 body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type},
        "isBase64Encoded": True,
        "body": base64.b64encode(body).decode(),
    }


@dataclass(frozen=True, slots=True)
class ProxyResponse:
    """A decoded proxy-integration response."""

    status: int
    content_type: str
    body: bytes


def parse_http_response(payload: bytes) -> ProxyResponse:
    """Decode what a handler returned (raises ValueError when it is not a proxy response)."""
    data = json.loads(payload)
    if not isinstance(data, dict) or "statusCode" not in data:
        raise ValueError(f"not a proxy-integration response: {payload[:200]!r}")
    headers = {k.lower(): v for k, v in (data.get("headers") or {}).items()}
    raw = data.get("body") or ""
    body = base64.b64decode(raw) if data.get("isBase64Encoded") else raw.encode()
    return ProxyResponse(int(data["statusCode"]), headers.get("content-type", ""), body)
