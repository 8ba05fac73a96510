"""Transports of `io.statefun.endpoints.v2/http` (statefun-reference §1.7): OkHttp, async, lambda-url.

`transport:` absent or without `type` means the async (Netty) transport; `okhttp` reads only
`timeouts`; baton's `baton.transports.v1/lambda-url` is the async transport plus SigV4 signing.
A v1 endpoint always uses OkHttp, with its `timeouts` directly under `spec` (`okhttp`).
"""

from __future__ import annotations

import re
from datetime import timedelta

from baton.diagnostics import did_you_mean
from baton.module.fields import (
    aws_region_name,
    check_keys,
    fmt_duration,
    optional_timeout,
    timeout,
)
from baton.module.kinds import ASYNC_TRANSPORT, LAMBDA_URL_TRANSPORT, OKHTTP_TRANSPORT
from baton.module.specs import (
    AsyncTransportSpec,
    LambdaUrlTransportSpec,
    OkHttpTransportSpec,
    TransportSpec,
)
from baton.module.typename import TypeName
from baton.module.yaml_nodes import INT32, Node

_OKHTTP_TIMEOUTS = ("call", "connect", "read", "write")
_ASYNC_KEYS = (
    "type",
    "call",
    "connect",
    "pool_ttl",
    "pool_size",
    "payload_max_bytes",
    "trust_cacerts",
    "client_cert",
    "client_key",
    "client_key_password",
    "timeouts",
)
_OKHTTP_HINTS = {
    **dict.fromkeys(
        _OKHTTP_TIMEOUTS,
        " Put it under `timeouts:`; the OkHttp transport reads only"
        " timeouts.{call,connect,read,write}.",
    ),
    **dict.fromkeys(
        _ASYNC_KEYS[3:-1],  # pool_ttl … client_key_password
        " This is an async-transport property; the OkHttp transport ignores it.",
    ),
}
_ASYNC_HINTS = {
    "read": " The async transport has no read timeout (OkHttp only).",
    "write": " The async transport has no write timeout (OkHttp only).",
}
_LAMBDA_URL_KEYS = (
    "type",
    "region",
    "service",
    "call",
    "connect",
    "pool_ttl",
    "pool_size",
    "payload_max_bytes",
)
_LAMBDA_URL_HINTS = {
    **_ASYNC_HINTS,
    "timeouts": " The lambda-url transport reads `call` and `connect` directly under"
    " `transport:`.",
    **dict.fromkeys(
        ("trust_cacerts", "client_cert", "client_key", "client_key_password"),
        " The lambda-url transport authenticates with SigV4 and trusts the system CA store;"
        " it reads no TLS files.",
    ),
}


def v2_transport(node: Node | None) -> TransportSpec:
    """Absent, or without `type`, means async (FLINK-24534; the docs still say OkHttp)."""
    if node is None:
        return AsyncTransportSpec()
    node.mapping(f"transport: {{type: {OKHTTP_TRANSPORT}}}")
    type_node = node.get("type")
    if type_node is None:
        return _async(node)
    # Compared as parsed typenames, so `io.statefun.transports.v1/okhttp/` names OkHttp too.
    transport_type = str(type_node.typename(ASYNC_TRANSPORT, strict=True))
    if transport_type == OKHTTP_TRANSPORT:
        check_keys(node, ("type", "timeouts"), _OKHTTP_HINTS)
        return okhttp(node.get("timeouts"))
    if transport_type == ASYNC_TRANSPORT:
        return _async(node)
    if transport_type == LAMBDA_URL_TRANSPORT:
        return _lambda_url(node)
    accepted = (ASYNC_TRANSPORT, OKHTTP_TRANSPORT, LAMBDA_URL_TRANSPORT)
    type_node.fail(
        f"unknown transport type `{transport_type}`; accepted: {ASYNC_TRANSPORT} (the default "
        f"when `type` is absent) and {OKHTTP_TRANSPORT}, plus baton's "
        f"{LAMBDA_URL_TRANSPORT} (SigV4-signed Lambda Function URLs)."
        + did_you_mean(transport_type, accepted)
    )


def okhttp(timeouts: Node | None) -> OkHttpTransportSpec:
    """OkHttp timeouts: defaults 1 min / 10 s / 10 s / 10 s, none zero, none above `call`."""
    if timeouts is None:
        return OkHttpTransportSpec()
    timeouts.mapping("timeouts: {call: 1min, connect: 10s}")
    check_keys(timeouts, _OKHTTP_TIMEOUTS)
    given = {key: timeout(node) for key in _OKHTTP_TIMEOUTS if (node := timeouts.get(key))}
    defaults = OkHttpTransportSpec()
    transport = OkHttpTransportSpec(
        call=given.get("call", defaults.call),
        connect=given.get("connect", defaults.connect),
        read=given.get("read", defaults.read),
        write=given.get("write", defaults.write),
    )
    for key in ("connect", "read", "write"):
        value = getattr(transport, key)
        if value > transport.call:
            default = "" if key in given else " (the default)"
            call_default = "" if "call" in given else " (the default)"
            at = timeouts.get(key) or timeouts.get("call") or timeouts
            at.fail(
                f"{key.capitalize()} timeout cannot be larger than request timeout: `{key}` is "
                f"{fmt_duration(value)}{default} but `call` is "
                f"{fmt_duration(transport.call)}{call_default}. "
                f"Raise `call` or lower `{key}`."
            )
    return transport


def _async(props: Node) -> AsyncTransportSpec:
    """The async (Netty) transport, including the `timeouts` precedence trap of §1.7."""
    check_keys(props, _ASYNC_KEYS, _ASYNC_HINTS)
    defaults = AsyncTransportSpec()
    call = optional_timeout(props.get("call"), defaults.call)
    connect = optional_timeout(props.get("connect"), defaults.connect)
    if (timeouts := props.get("timeouts")) is not None:
        call, connect = _async_legacy_timeouts(props, timeouts)
    files = {
        key: node.text()
        for key in ("trust_cacerts", "client_cert", "client_key", "client_key_password")
        if (node := props.get(key))
    }
    _check_mutual_tls(props, files)
    pool_ttl, pool_size, payload_max_bytes = _pool(props, defaults)
    return AsyncTransportSpec(
        call=call,
        connect=connect,
        pool_ttl=pool_ttl,
        pool_size=pool_size,
        payload_max_bytes=payload_max_bytes,
        trust_cacerts=files.get("trust_cacerts"),
        client_cert=files.get("client_cert"),
        client_key=files.get("client_key"),
        client_key_password=files.get("client_key_password"),
    )


def _pool(props: Node, defaults: AsyncTransportSpec | LambdaUrlTransportSpec) -> tuple[timedelta, int, int]:
    """`pool_ttl` (0 disables pooling), `pool_size` and `payload_max_bytes`: the connection pool
    of the async transport, which lambda-url shares."""
    ttl, size, payload = props.get("pool_ttl"), props.get("pool_size"), props.get("payload_max_bytes")
    return (
        defaults.pool_ttl if ttl is None else ttl.duration(),
        defaults.pool_size if size is None else size.integer(lo=1, hi=INT32[1], example="1024"),
        defaults.payload_max_bytes
        if payload is None
        else payload.integer(lo=1, hi=INT32[1], example="33554432"),
    )


def _async_legacy_timeouts(props: Node, timeouts: Node) -> tuple[timedelta, timedelta]:
    """`timeouts.call/connect` win, with *their own* defaults (1 min, 10 s), over `call/connect`."""
    timeouts.mapping("timeouts: {call: 2min, connect: 20s}")
    check_keys(timeouts, ("call", "connect"), _ASYNC_HINTS)
    call = optional_timeout(timeouts.get("call"), timedelta(minutes=1))
    connect = optional_timeout(timeouts.get("connect"), timedelta(seconds=10))
    for key in ("call", "connect"):
        if (top := props.get(key)) is not None:
            top.warn(
                f"`{key}` is ignored because a `timeouts` block is present: StateFun then uses "
                f"`timeouts.{key}` ({fmt_duration(call if key == 'call' else connect)}). "
                "Move the value into `timeouts:` or drop the block."
            )
    return call, connect


def _check_mutual_tls(props: Node, files: dict[str, str]) -> None:
    if ("client_cert" in files) == ("client_key" in files):
        return
    present, absent = (
        ("client_cert", "client_key") if "client_cert" in files else ("client_key", "client_cert")
    )
    props.mapping()[present].fail(
        "You need to provide both the cert and the key if you want to use mutual TLS: "
        f"`{present}` is set but `{absent}` is not. "
        f"Add `{absent}: file:/path/to/{absent.split('_')[1]}.pem` "
        f"or remove `{present}`."
    )


def _lambda_url(props: Node) -> LambdaUrlTransportSpec:
    """`baton.transports.v1/lambda-url`: the async transport's pool and budget, plus SigV4."""
    refused = ("timeouts", "trust_cacerts", "client_cert", "client_key", "client_key_password")
    check_keys(props, _LAMBDA_URL_KEYS + refused, _LAMBDA_URL_HINTS)
    for key in refused:
        if (node := props.get(key)) is not None:
            node.fail(
                f"`{key}` is not supported by {LAMBDA_URL_TRANSPORT}.{_LAMBDA_URL_HINTS[key]}"
            )
    defaults = LambdaUrlTransportSpec()
    region = aws_region_name(node) if (node := props.get("region")) else None
    service = defaults.service
    if (node := props.get("service")) is not None:
        service = node.text(strict=True, example="service: lambda")
        if not re.fullmatch(r"[a-z0-9-]+", service):
            node.fail(
                f"`service` {service!r} is not a SigV4 service name; use `lambda` for a Function "
                "URL (the default) or `execute-api` for an API Gateway with IAM auth."
            )
    call = optional_timeout(props.get("call"), defaults.call)
    connect = optional_timeout(props.get("connect"), defaults.connect)
    pool_ttl, pool_size, payload_max_bytes = _pool(props, defaults)
    return LambdaUrlTransportSpec(
        region=region,
        service=service,
        call=call,
        connect=connect,
        pool_ttl=pool_ttl,
        pool_size=pool_size,
        payload_max_bytes=payload_max_bytes,
    )


def lambda_url_type(spec: Node) -> Node | None:
    """The `transport.type` node of a v2 endpoint when it names the lambda-url transport."""
    transport = spec.value.get("transport") if spec.is_map else None
    type_node = transport.value.get("type") if transport is not None and transport.is_map else None
    if type_node is None or not isinstance(type_node.value, str):
        return None
    try:
        named = str(TypeName.parse(type_node.value))
    except ValueError:
        return None
    return type_node if named == LAMBDA_URL_TRANSPORT else None
