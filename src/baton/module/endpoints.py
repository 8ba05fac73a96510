"""HTTP endpoints: `io.statefun.endpoints.v1/http` and `io.statefun.endpoints.v2/http` (§1.4 – §1.6).

Both bind function types (`functions`) to a URL (`urlPathTemplate`, where `{function.name}` is the
only placeholder); v1 always calls over OkHttp, v2 over its `transport` (`baton.module.transports`).
v2 also takes the fransking fork's `failureMode: FAIL|DROP` (what a call that failed for good does).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from baton.module.components import Parsed
from baton.module.fields import check_keys, max_batch, one_of, target_functions
from baton.module.kinds import ENDPOINT_V2, OKHTTP_TRANSPORT
from baton.module.specs import (
    AsyncTransportSpec,
    FailureMode,
    HttpEndpointSpec,
    LambdaUrlTransportSpec,
    OkHttpTransportSpec,
    SourceLocation,
    TransportSpec,
)
from baton.module.transports import okhttp, v2_transport
from baton.module.yaml_nodes import Node

V1_KEYS = ("functions", "urlPathTemplate", "maxNumBatchRequests", "maxRetries", "timeouts")
V2_KEYS = ("functions", "urlPathTemplate", "maxNumBatchRequests", "transport", "failureMode")
_V1_HINTS = {
    "transport": f" `transport` is only read by {ENDPOINT_V2}; a v1 endpoint"
    " always uses OkHttp, with `timeouts:` directly under spec.",
    "failureMode": f" `failureMode` (the fransking fork) is only read by {ENDPOINT_V2} endpoints.",
}
_V2_HINTS = {
    "transports": " The key is singular: `transport` (the StateFun Javadoc is wrong).",
    "timeouts": " In a v2 endpoint, timeouts belong to the transport: `transport: {type:"
    f" {OKHTTP_TRANSPORT}, timeouts: {{...}}}}`, or `transport: {{call: 2min}}` for the"
    " async default.",
}
_URL_EXAMPLE = "Write e.g. http://localhost:8000/statefun."


def parse_v1(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """`io.statefun.endpoints.v1/http`, read with StateFun's `Selectors` (strings must be strings).

    Always OkHttp; the whole spec is the transport's properties, so `timeouts` sits under spec.
    """
    return _parse(spec, kind, source, v1=True)


def parse_v2(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """`io.statefun.endpoints.v2/http`, bound by Jackson (numbers and booleans pass as text)."""
    return _parse(spec, kind, source, v1=False)


def _parse(spec: Node, kind: str, source: SourceLocation, *, v1: bool) -> Parsed:
    """Either version: they differ in strictness (`Selectors` for v1), keys, transport and
    `failureMode`."""
    spec.mapping("functions: example/*")
    check_keys(spec, V1_KEYS if v1 else V2_KEYS, _V1_HINTS if v1 else _V2_HINTS)
    functions = spec.require("functions", "functions: example/*")
    target = target_functions(functions, strict=v1)
    url = spec.require("urlPathTemplate", "urlPathTemplate: http://localhost:8000/statefun")
    template = url.text(strict=v1)
    batch = max_batch(spec.get("maxNumBatchRequests"), strict=v1)
    transport = _v1_transport(spec) if v1 else v2_transport(spec.get("transport"))
    _check_url(url, template, transport)
    endpoint = HttpEndpointSpec(
        functions=target,
        url_path_template=template,
        max_num_batch_requests=batch,
        transport=transport,
        failure_mode=FailureMode.FAIL if v1 else _failure_mode(spec.get("failureMode")),
        kind=kind,
        source=source,
    )
    return Parsed(endpoint, ("function", str(target)), functions)


def _v1_transport(spec: Node) -> OkHttpTransportSpec:
    """The OkHttp transport of a v1 endpoint: the whole spec is its properties, so `timeouts` sits
    under spec; `maxRetries`, which would have bounded its retries, is read by no StateFun 3.x."""
    if (retries := spec.get("maxRetries")) is not None:
        retries.warn(
            "`maxRetries` has no effect in StateFun 3.x; retries are bounded by `timeouts.call`."
        )
    return okhttp(spec.get("timeouts"))


def _failure_mode(node: Node | None) -> FailureMode:
    """`failureMode: FAIL|DROP` of the fransking fork, read there with Java's case-sensitive
    `Enum.valueOf`; StateFun 3.3 ignores the key (a failed call restarts the job)."""
    if node is None:
        return FailureMode.FAIL
    value = node.text()
    valid = [mode.value for mode in FailureMode]
    if value.upper() in valid and value not in valid:
        node.fail(
            f"failureMode {value!r} must be written {value.upper()}: the fork that reads it "
            "(fransking/flink-statefun) matches the name case-sensitively and would not start."
        )
    return FailureMode(one_of(node, valid, "failureMode"))


def _check_url(node: Node, template: str, transport: TransportSpec) -> None:
    """The URL must be usable by the chosen transport once `{function.name}` is filled in."""
    url = template.replace("{function.name}", "fn")
    if "{" in url or "}" in url:
        node.fail(
            f"`urlPathTemplate` {template!r} has an unknown placeholder; the only placeholder is "
            "{function.name} (the namespace is never substituted)."
        )
    if any(ch.isspace() for ch in url):
        node.fail(
            f"`urlPathTemplate` {template!r} contains whitespace; "
            "remove it or percent-encode it (%20)."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        node.fail(f"`urlPathTemplate` {template!r} is not a valid URL ({exc}). {_URL_EXAMPLE}")
    scheme = parts.scheme.lower()
    if scheme in ("http+unix", "https+unix"):
        _check_unix_url(node, template, parts.path, transport)
    elif scheme not in ("http", "https"):
        found = f"'{parts.scheme}'" if parts.scheme else "no scheme"
        node.fail(
            f"`urlPathTemplate` {template!r} has {found}; the scheme must be http or https "
            f"(http+unix/https+unix with the OkHttp transport). {_URL_EXAMPLE}"
        )
    elif not parts.hostname:
        node.fail(f"`urlPathTemplate` {template!r} has no host. {_URL_EXAMPLE}")
    elif port == 0:
        node.fail(
            f"`urlPathTemplate` {template!r} uses port 0; "
            "use the port your function server listens on."
        )


def _check_unix_url(node: Node, template: str, path: str, transport: TransportSpec) -> None:
    if isinstance(transport, LambdaUrlTransportSpec):
        node.fail(
            f"`urlPathTemplate` {template!r} is a Unix domain socket URL, which cannot be a Lambda "
            "Function URL; the lambda-url transport signs requests to "
            "https://<url-id>.lambda-url.<region>.on.aws/ (or an API Gateway URL)."
        )
    if isinstance(transport, AsyncTransportSpec):
        node.fail(
            f"`urlPathTemplate` {template!r} is a Unix domain socket URL, which only the OkHttp "
            "transport supports; this endpoint uses the async transport (the v2 default). Add "
            f"`transport: {{type: {OKHTTP_TRANSPORT}}}` or use http://host:port."
        )
    if not any(segment.endswith(".sock") for segment in path.split("/")):
        node.fail(
            f"`urlPathTemplate` {template!r} names no socket file; the first path element ending "
            "in `.sock` is the socket, e.g. http+unix:///run/functions.sock/statefun."
        )
