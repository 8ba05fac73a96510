"""baton's Lambda endpoint kind, `baton.endpoints.v1/lambda`, and what strict StateFun mode says.

The endpoint calls functions with Lambda's Invoke API (boto3); `functionName` is a function name,
`name:alias`, a partial ARN or an ARN, read by the one Lambda name parser (`baton.aws.arns`), in
which `{function.name}` is replaced by the function type's name like in `urlPathTemplate`.

A real StateFun cluster can do neither this nor SigV4-signed Function URLs
(`baton.transports.v1/lambda-url`); in strict StateFun mode both are rejected with what to use there.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from baton.aws.arns import (
    MAX_NAME_LENGTH,
    QUALIFIER,
    LambdaFunctionRef,
    NotALambdaFunction,
    parse_function,
)
from baton.module.components import Parsed
from baton.module.fields import (
    aws_region_name,
    check_keys,
    max_batch,
    optional_timeout,
    target_functions,
)
from baton.module.kinds import (
    ASYNC_TRANSPORT,
    ENDPOINT_V2,
    LAMBDA_ENDPOINT,
    LAMBDA_URL_TRANSPORT,
)
from baton.module.specs import LambdaEndpointSpec, SourceLocation
from baton.module.transports import lambda_url_type
from baton.module.typename import TypeName
from baton.module.yaml_nodes import Node

KEYS = (
    "functions",
    "functionName",
    "qualifier",
    "region",
    "endpointUrl",
    "maxNumBatchRequests",
    "timeouts",
    "call",
)
_HINTS = {
    "urlPathTemplate": f" A {LAMBDA_ENDPOINT} endpoint names its function with `functionName`;"
    f" to call a Function URL, use {ENDPOINT_V2} (with `transport: {{type:"
    f" {LAMBDA_URL_TRANSPORT}}}` if its auth type is AWS_IAM).",
    "transport": f" A {LAMBDA_ENDPOINT} endpoint has no transport; write `call: 2min` directly"
    " under spec.",
    "functionArn": " Write the ARN in `functionName`.",
    "alias": " Write the alias or version in `qualifier`.",
    "version": " Write the alias or version in `qualifier`.",
}
_FUNCTION_NAME_EXAMPLE = (
    "functionName: example-{function.name} (a name, name:alias, or "
    "arn:aws:lambda:us-east-1:123456789012:function:example-{function.name})"
)


def parse(spec: Node, kind: str, source: SourceLocation) -> Parsed:
    """A `baton.endpoints.v1/lambda` document."""
    spec.mapping("functions: example/*")
    check_keys(spec, KEYS, _HINTS)
    functions = spec.require("functions", "functions: example/*")
    target = target_functions(functions, strict=False)
    name_node = spec.require("functionName", "functionName: example-{function.name}")
    function_name = name_node.text(example=_FUNCTION_NAME_EXAMPLE)
    named = _function(name_node, function_name)
    qualifier = None
    if (qualifier_node := spec.get("qualifier")) is not None:
        qualifier = qualifier_node.text(example="qualifier: live")
        if not QUALIFIER.fullmatch(qualifier):
            qualifier_node.fail(
                f"`qualifier` {qualifier!r} is not a Lambda version or alias: use `$LATEST`, a "
                "version number or an alias name (letters, digits, `-`, `_`; at most 128)."
            )
        if named.qualifier is not None and named.qualifier != qualifier:
            qualifier_node.fail(
                f"`qualifier` {qualifier!r} contradicts the qualifier {named.qualifier!r} in "
                f"`functionName` {function_name!r}; Lambda rejects such a call. Keep only one."
            )
    region = None
    if (region_node := spec.get("region")) is not None:
        region = aws_region_name(region_node)
        if named.region is not None and named.region != region:
            region_node.fail(
                f"`region` {region!r} contradicts the region {named.region!r} of the ARN in "
                "`functionName`; a function is invoked in the region of its ARN. Drop `region`."
            )
    endpoint_url = None
    if (url_node := spec.get("endpointUrl")) is not None:
        endpoint_url = _endpoint_url(url_node)
    batch = max_batch(spec.get("maxNumBatchRequests"), strict=False)
    endpoint = LambdaEndpointSpec(
        functions=target,
        function_name=function_name,
        qualifier=qualifier,
        region=region,
        endpoint_url=endpoint_url,
        max_num_batch_requests=batch,
        call=_call(spec),
        kind=kind,
        source=source,
    )
    return Parsed(endpoint, ("function", str(target)), functions)


def _endpoint_url(node: Node) -> str:
    url = node.text(strict=True, example="endpointUrl: http://localhost:9001")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        node.fail(f"`endpointUrl` {url!r} is not a valid URL ({exc}).")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        node.fail(
            f"`endpointUrl` {url!r} must be an http(s) URL with a host, e.g. "
            "`endpointUrl: http://localhost:9001` for `baton lambda local`; leave it out to "
            "call AWS Lambda itself."
        )
    if port == 0:
        node.fail(f"`endpointUrl` {url!r} uses port 0; use the port the Invoke API listens on.")
    return url


def _call(spec: Node) -> timedelta:
    """`call: 2min` or `timeouts: {call: 2min}` (not both); default 2 min like async."""
    call = spec.get("call")
    if (timeouts := spec.get("timeouts")) is not None:
        timeouts.mapping("timeouts: {call: 2min}")
        check_keys(
            timeouts,
            ("call",),
            dict.fromkeys(
                ("connect", "read", "write"),
                " A lambda endpoint has only a `call` budget (per-attempt timeouts follow it).",
            ),
        )
        nested = timeouts.get("call")
        if call is not None and nested is not None:
            call.fail(
                "the call timeout is given twice, as `call` and as `timeouts.call`; keep one."
            )
        call = nested or call
    return optional_timeout(call, timedelta(minutes=2))


def _function(node: Node, template: str) -> LambdaFunctionRef:
    """The function `functionName` names once `{function.name}` is filled in.

    With the placeholder, the name's length depends on the function type, so only Lambda can
    check it.
    """
    name = template.replace("{function.name}", "fn")
    if "{" in name or "}" in name:
        node.fail(
            f"`functionName` {template!r} has an unknown placeholder; the only placeholder is "
            "{function.name} (the function type's name)."
        )
    try:
        return parse_function(name, check_name_length="{function.name}" not in template)
    except NotALambdaFunction as error:
        node.fail(_function_problem(template, error))


def _function_problem(template: str, error: NotALambdaFunction) -> str:
    """The loader's wording of a bad `functionName`, with the template as written."""
    part = error.part
    if error.problem == "region":
        return (
            f"`functionName` {template!r} is an ARN with the region {part!r}, which is not "
            f"an AWS region such as us-east-1. Write e.g. `{_FUNCTION_NAME_EXAMPLE}`."
        )
    if error.problem == "arn":
        return (
            f"`functionName` {template!r} is not a Lambda function ARN; write "
            "arn:aws:lambda:<region>:<account>:function:<name>[:<alias>], or just the name."
        )
    if error.problem == "account":
        return (
            f"`functionName` {template!r} names the account {part!r}; an AWS account id has "
            "exactly 12 digits."
        )
    if error.problem == "name-length":
        return (
            f"`functionName` {template!r}: a Lambda function name has at most "
            f"{MAX_NAME_LENGTH} characters."
        )
    if error.problem == "qualifier":
        return (
            f"`functionName` {template!r} ends in the qualifier {part!r}, which is not a "
            "version or alias (`$LATEST`, a number, or letters, digits, `-`, `_`)."
        )
    return (
        f"`functionName` {template!r} is not a valid Lambda function name: names use "
        f"letters, digits, `-` and `_`, optionally followed by `:alias`. "
        f"Write e.g. `{_FUNCTION_NAME_EXAMPLE}`."
    )


# --- strict StateFun mode ----------------------------------------------------------------------

_CLUSTER_ALTERNATIVE = (
    "On a real StateFun cluster, give the function a Function URL with auth type NONE (or put an "
    f"API Gateway in front of it) and bind that URL with a plain {ENDPOINT_V2} "
    "endpoint (`urlPathTemplate: https://<url-id>.lambda-url.<region>.on.aws/`, default async "
    "transport), as in StateFun's official aws-lambda deployment example."
)
_STRICT_LAMBDA_ENDPOINT = (
    f"`{LAMBDA_ENDPOINT}` is a baton extension: it calls Lambda's Invoke API with AWS "
    "credentials, which a real StateFun cluster cannot do. " + _CLUSTER_ALTERNATIVE
)
_STRICT_LAMBDA_URL = (
    f"`{LAMBDA_URL_TRANSPORT}` is a baton extension: a real StateFun cluster cannot sign "
    f"requests with SigV4 (it only has {ASYNC_TRANSPORT} and okhttp), so a Function "
    "URL with auth type AWS_IAM rejects its calls with 403. " + _CLUSTER_ALTERNATIVE
)


def reject_for_statefun(kind: TypeName, kind_node: Node, spec: Node) -> None:
    """In strict StateFun mode, say what a real cluster uses instead of baton's Lambda kinds."""
    if str(kind) == LAMBDA_ENDPOINT:
        kind_node.fail(_STRICT_LAMBDA_ENDPOINT)
    if str(kind) == ENDPOINT_V2 and (node := lambda_url_type(spec)):
        node.fail(_STRICT_LAMBDA_URL)
