"""Load StateFun 3.3 module.yaml files into typed specs (statefun-reference §1).

StateFun reads module.yaml with Jackson: unknown keys are ignored, scalars are coerced into the
field types, and every problem surfaces as a Java exception at job startup. baton accepts the same
files, builds the dataclasses of `baton.module.specs`, and reports each problem with its file,
line and field, what was found and how to fix it. Unknown keys stay accepted, with a warning.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from baton.module.durations import FLINK_LABELS, duration_unit, parse_duration
from baton.module.errors import ModuleError, ModuleWarning
from baton.module.specs import (
    AsyncTransportSpec,
    AwsCredentials,
    AwsRegion,
    EgressSpec,
    ExtensionDocument,
    HttpEndpointSpec,
    IngressSpec,
    KafkaEgressSpec,
    KafkaIngressSpec,
    KafkaTopicRoute,
    KinesisEgressSpec,
    KinesisIngressSpec,
    KinesisStreamRoute,
    LambdaEndpointSpec,
    LambdaUrlTransportSpec,
    ModuleSpec,
    OkHttpTransportSpec,
    PlaygroundEgressSpec,
    PlaygroundIngressSpec,
    SourceLocation,
    TargetFunctions,
    TransportSpec,
    TypeName,
)

__all__ = [
    "STATEFUN_KINDS",
    "is_baton_extension",
    "load_module",
    "load_module_text",
    "validate_application",
]

ENDPOINT_V1 = "io.statefun.endpoints.v1/http"
ENDPOINT_V2 = "io.statefun.endpoints.v2/http"
KAFKA_INGRESS = "io.statefun.kafka.v1/ingress"
KAFKA_EGRESS = "io.statefun.kafka.v1/egress"
KINESIS_INGRESS = "io.statefun.kinesis.v1/ingress"
KINESIS_EGRESS = "io.statefun.kinesis.v1/egress"
PLAYGROUND_INGRESS = "io.statefun.playground.v1/ingress"
PLAYGROUND_EGRESS = "io.statefun.playground.v1/egress"
STATEFUN_KINDS: tuple[str, ...] = (
    ENDPOINT_V1,
    ENDPOINT_V2,
    KAFKA_INGRESS,
    KAFKA_EGRESS,
    KINESIS_INGRESS,
    KINESIS_EGRESS,
    PLAYGROUND_INGRESS,
    PLAYGROUND_EGRESS,
)

OKHTTP_TRANSPORT = TypeName("io.statefun.transports.v1", "okhttp")
ASYNC_TRANSPORT = TypeName("io.statefun.transports.v1", "async")
# baton-only additions (statefun-reference has no equivalent; a real cluster rejects both)
LAMBDA_ENDPOINT = "baton.endpoints.v1/lambda"
LAMBDA_URL_TRANSPORT = TypeName("baton.transports.v1", "lambda-url")

_INT32 = (-(2**31), 2**31 - 1)
_URL_EXAMPLE = "Write e.g. http://localhost:8000/statefun."


def is_baton_extension(kind: TypeName) -> bool:
    """Whether a kind belongs to baton (namespace `baton` or `baton.…`), not to StateFun."""
    return kind.namespace == "baton" or kind.namespace.startswith("baton.")


# =============================================================================================
#  YAML with locations
# =============================================================================================


@dataclass(frozen=True, slots=True)
class _Node:
    """One YAML value with where it was written.

    `value` is None/bool/int/float/str for scalars, dict[str, _Node] for mappings and
    list[_Node] for sequences. `line` is 1-based: the key's line for mapping values, else the
    line where the value starts. `path` is the dotted field path, e.g. `spec.topics[0].topic`.
    """

    value: Any
    raw: str | None
    line: int
    path: str
    file: str

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1] or "document"

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_null(self) -> bool:
        return self.value is None

    def fail(self, message: str) -> NoReturn:
        raise ModuleError(message, file=self.file, line=self.line, field=self.path or None)

    def warn(self, message: str) -> None:
        _warn(self.file, self.line, self.path, message)

    def child_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    # -- structure ----------------------------------------------------------------------------

    def mapping(self, example: str = "") -> dict[str, _Node]:
        if not self.is_map:
            hint = f" Write it like:\n  {example}" if example else ""
            self.fail(
                f"`{self.name}` must be a mapping (key: value pairs), got {_describe(self)}.{hint}"
            )
        return self.value

    def items(self, example: str = "") -> list[_Node]:
        if not self.is_list:
            hint = (
                f" Write it as a YAML list, e.g. {example}"
                if example
                else " Write it as a YAML list."
            )
            self.fail(f"`{self.name}` must be a list, got {_describe(self)}.{hint}")
        return self.value

    def get(self, key: str) -> _Node | None:
        """The child at `key`; an explicit null counts as absent, as for Jackson's setters."""
        child = self.mapping().get(key)
        return None if child is None or child.is_null else child

    def require(self, key: str, example: str) -> _Node:
        child = self.get(key)
        if child is None:
            self.missing(key, f"Add it, e.g. `{example}`.")
        return child

    def missing(self, key: str, how: str) -> NoReturn:
        raise ModuleError(
            f"missing required key `{key}`. {how}",
            file=self.file,
            line=self.line,
            field=self.child_path(key),
        )

    # -- scalars ------------------------------------------------------------------------------

    def text(self, *, strict: bool = False, example: str = "") -> str:
        """A string. Jackson-bound fields also take numbers and booleans (as written);
        `strict` mirrors StateFun's `Selectors.textAt`, which wants a real string."""
        if isinstance(self.value, str):
            return self.value
        if not strict and isinstance(self.value, (bool, int, float)):
            return self.raw or str(self.value)
        hint = f" Write e.g. `{example}`." if example else ""
        quote = (
            " Quote it to make it a string." if isinstance(self.value, (bool, int, float)) else ""
        )
        self.fail(f"`{self.name}` must be a string, got {_describe(self)}.{quote}{hint}")

    def integer(
        self,
        *,
        strict: bool = False,
        example: str = "1000",
        lo: int | None = None,
        hi: int | None = None,
    ) -> int:
        """An int. Jackson-bound int fields also take numeric strings; `strict` mirrors
        `Selectors.optionalIntegerAt` ("not an integer")."""
        value = self.value
        if isinstance(value, str) and not strict and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                f"`{self.name}` must be an integer, got {_describe(self)}. "
                f"Use a number such as {example}."
            )
        low, high = _INT32 if lo is None and hi is None else (lo, hi)
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(f"`{self.name}` must be between {low} and {high}, got {value}.")
        return value

    def duration(self) -> timedelta:
        """A Flink duration: `10s`, `2 min`, `500ms`; a bare number is milliseconds."""
        if isinstance(self.value, bool) or not isinstance(self.value, (str, int)):
            self.fail(
                f"`{self.name}` must be a duration such as `{self.name}: 10s`, "
                f"got {_describe(self)}. "
                "Units: ms, s, min, h, d; a bare number means milliseconds."
            )
        try:
            result = parse_duration(self.value)
        except ValueError as exc:
            self.fail(
                f"`{self.name}` is not a valid duration: {exc}. Write e.g. `{self.name}: 10s`."
            )
        if isinstance(self.value, str) and duration_unit(self.value) not in (None, *FLINK_LABELS):
            self.warn(
                f"the unit in {self.value!r} is a baton convenience; "
                "StateFun only accepts `µs` or `micros`."
            )
        return result

    def typename(self, example: str, *, strict: bool = False) -> TypeName:
        text = self.text(strict=strict, example=f"{self.name}: {example}")
        try:
            return TypeName.parse(text)
        except ValueError:
            self.fail(
                f"Invalid type name string: {text!r}. Must be of format <namespace>/<name> "
                f"with exactly one `/`, e.g. `{example}`."
            )


def _describe(node: _Node) -> str:
    """How a found value reads in an error message."""
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {node.raw}"
    if isinstance(value, (int, float)):
        return f"the number {node.raw}"
    return repr(value)


def _warn(file: str, line: int | None, field: str | None, message: str) -> None:
    where = f"{file}:{line}" if line is not None else file
    warnings.warn(f"{where}: {field + ': ' if field else ''}{message}", ModuleWarning, stacklevel=3)


def _check_keys(node: _Node, known: Iterable[str], hints: dict[str, str] | None = None) -> None:
    """Warn about keys StateFun ignores (Jackson FAIL_ON_UNKNOWN_PROPERTIES=false)."""
    known = tuple(known)
    for key, child in node.mapping().items():
        if key in known:
            continue
        hint = (hints or {}).get(key) or _did_you_mean(key, known)
        if key == "<<":
            hint = _MERGE_HINT
        child.warn(f"unknown key `{key}` is ignored (StateFun ignores it too).{hint}")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not match:
        lowered = {choice.lower(): choice for choice in choices}
        match = [lowered[word.lower()]] if word.lower() in lowered else []
    return f" Did you mean `{match[0]}`?" if match else ""


_MERGE_HINT = (
    " YAML merge keys are not supported by StateFun's YAML parser (Jackson), so the merged keys"
    " are ignored there; write the keys out."
)

# --- conversion from ruamel's composed nodes --------------------------------------------------

_NULLS = {"", "~", "null", "Null", "NULL"}


def _scalar(node: ScalarNode) -> Any:
    """The value of a plain scalar by its resolved tag; timestamps and custom tags stay text."""
    tag, raw = str(node.tag), node.value
    if tag.endswith(":null") and raw in _NULLS:
        return None
    if tag.endswith(":bool"):
        return raw.lower() in ("true", "yes", "on", "y")
    if tag.endswith(":int"):
        return _yaml_int(raw)
    if tag.endswith(":float"):
        return _yaml_float(raw)
    return raw


def _yaml_int(raw: str) -> int | str:
    text = raw.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits[:2].lower() in ("0x", "0o", "0b"):
            return sign * int(digits, 0)
        return sign * int(digits, 10)
    except ValueError:
        return raw


def _yaml_float(raw: str) -> float | str:
    text = raw.replace("_", "").lower()
    special = {
        ".inf": float("inf"),
        "+.inf": float("inf"),
        "-.inf": float("-inf"),
        ".nan": float("nan"),
    }
    if text in special:
        return special[text]
    try:
        return float(text)
    except ValueError:
        return raw


def _convert(node: Node, file: str, path: str, line: int, active: set[int]) -> _Node:
    if id(node) in active:
        raise ModuleError(
            "a YAML alias refers to itself; StateFun cannot read recursive documents.",
            file=file,
            line=line,
            field=path or None,
        )
    if isinstance(node, ScalarNode):
        return _Node(_scalar(node), node.value, line, path, file)
    active.add(id(node))
    try:
        if isinstance(node, SequenceNode):
            items = [
                _convert(item, file, f"{path}[{i}]", item.start_mark.line + 1, active)
                for i, item in enumerate(node.value)
            ]
            return _Node(items, None, line, path, file)
        return _Node(_convert_mapping(node, file, path, active), None, line, path, file)
    finally:
        active.discard(id(node))


def _convert_mapping(node: MappingNode, file: str, path: str, active: set[int]) -> dict[str, _Node]:
    entries: dict[str, _Node] = {}
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode):
            raise ModuleError(
                "mapping keys must be plain strings, not lists or mappings.",
                file=file,
                line=key_line,
                field=path or None,
            )
        key = key_node.value
        child_path = f"{path}.{key}" if path else key
        if key in entries:
            # Jackson keeps the last value of a repeated key.
            _warn(
                file,
                key_line,
                child_path,
                f"key `{key}` is repeated (first at line {entries[key].line}); "
                "the last value wins, as in StateFun.",
            )
        entries[key] = _convert(value_node, file, child_path, key_line, active)
    return entries


def _documents(text: str, file: str) -> list[_Node]:
    """Every document of a YAML stream, null ones included (they matter for legacy detection)."""
    try:
        composed = list(YAML(typ="rt").compose_all(text))
    except MarkedYAMLError as exc:
        raise _yaml_error(exc, file) from None
    except YAMLError as exc:
        raise ModuleError(f"invalid YAML: {exc}", file=file) from None
    return [_convert(doc, file, "", doc.start_mark.line + 1, set()) for doc in composed]


def _yaml_error(exc: MarkedYAMLError, file: str) -> ModuleError:
    """A YAML syntax error, located where the fix most likely goes."""
    problem, context = exc.problem or "syntax error", exc.context
    mark = exc.problem_mark or exc.context_mark
    # An unclosed bracket or quote is reported at the end of the file; point at its opening.
    if exc.context_mark and "<stream end>" in problem:
        mark = exc.context_mark
    if context and exc.context_mark:
        problem = f"{problem} ({context} started at line {exc.context_mark.line + 1})"
    return ModuleError(
        f"invalid YAML: {problem}. Check the indentation, brackets and quoting around this line.",
        file=file,
        line=mark.line + 1 if mark else None,
    )


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """The first document of a YAML (or JSON) file as plain data, with each value's line."""
    file = str(path)
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ModuleError(f"cannot read the file: {error}", file=file) from None
    documents = [doc for doc in _documents(text, file) if not doc.is_null]
    if not documents:
        raise ModuleError("the file holds no document", file=file)
    return _to_plain(documents[0]), _lines(documents[0])


def _lines(node: _Node, prefix: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], int]:
    """The YAML line of every value under `node`, by its key/index path (for later errors)."""
    lines = {prefix: node.line}
    if node.is_map:
        for key, child in node.value.items():
            lines.update(_lines(child, (*prefix, key)))
    elif node.is_list:
        for index, child in enumerate(node.value):
            lines.update(_lines(child, (*prefix, index)))
    return lines


def _to_plain(node: _Node) -> Any:
    """Plain dict/list/scalar data, for baton extension documents."""
    if node.is_map:
        return {key: _to_plain(child) for key, child in node.value.items()}
    if node.is_list:
        return [_to_plain(child) for child in node.value]
    return node.value


# =============================================================================================
#  Shared field parsers
# =============================================================================================


def _target_functions(node: _Node, *, strict: bool) -> TargetFunctions:
    """`ns/name` or `ns/*` (statefun-reference §1.6)."""
    target = node.typename("example/*", strict=strict)
    if "*" in target.namespace or (target.name != "*" and "*" in target.name):
        node.fail(
            f"Invalid syntax for target functions: {str(target)!r}. Only <namespace>/<name> or "
            "<namespace>/* are supported. There is no prefix matching: `com.foo/*` serves exactly "
            "the namespace `com.foo`; bind other namespaces with their own endpoint documents."
        )
    return TargetFunctions(target.namespace, None if target.name == "*" else target.name)


def _check_url(node: _Node, template: str, transport: TransportSpec) -> None:
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


def _check_unix_url(node: _Node, template: str, path: str, transport: TransportSpec) -> None:
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
            "`transport: {type: io.statefun.transports.v1/okhttp}` or use http://host:port."
        )
    if not any(segment.endswith(".sock") for segment in path.split("/")):
        node.fail(
            f"`urlPathTemplate` {template!r} names no socket file; the first path element ending "
            "in `.sock` is the socket, e.g. http+unix:///run/functions.sock/statefun."
        )


def _properties(node: _Node | None) -> dict[str, str]:
    """A list of single-entry maps (`- key: value`) → dict, like `PropertiesJsonDeserializer`."""
    if node is None:
        return {}
    example = "\n  - bootstrap.servers: kafka:9092"
    if node.is_map:
        node.fail(
            f"`{node.name}` must be a list of single-entry maps, not a mapping. "
            f"Write each property as a list item:{example}"
        )
    result: dict[str, str] = {}
    for item in node.items(example):
        entries = item.mapping("- some.property: value")
        if not entries:
            item.fail("a property entry must hold one `key: value` pair.")
        (key, value), *rest = entries.items()
        if rest:
            # StateFun reads only the first entry of each list item.
            item.warn(
                f"only `{key}` is read from this item (StateFun reads one entry per item); "
                f"put {', '.join(f'`{k}`' for k, _ in rest)} in their own `- key: value` items."
            )
        if value.is_map or value.is_list:
            value.fail(f"property `{key}` must have a scalar value, got {_describe(value)}.")
        result[key] = "null" if value.is_null else value.text()
    return result


def _targets(node: _Node) -> tuple[TypeName, ...]:
    targets = tuple(
        item.typename("example/greeter") for item in node.items("`targets: [example/greeter]`")
    )
    if not targets:
        node.warn("no targets: records from this source are not delivered to any function.")
    return targets


def _startup_date(node: _Node) -> str:
    """A date in Java's `yyyy-MM-dd HH:mm:ss.SSS Z` pattern: `2020-02-01 04:15:00.000 +0000`."""
    text = node.text()
    if not _is_java_startup_date(text):
        node.fail(
            f"Unable to parse date string for startup position: {text!r}; the date should conform "
            "to the pattern yyyy-MM-dd HH:mm:ss.SSS Z, e.g. '2020-02-01 04:15:00.000 +0000' "
            "(three millisecond digits; the offset is +HHMM, not 'Z' or '+00:00')."
        )
    return text


_JAVA_DATE = re.compile(r"(\d{4,9})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) [+-](\d\d)(\d\d)")


def _is_java_startup_date(text: str) -> bool:
    match = _JAVA_DATE.fullmatch(text)
    if not match:
        return False
    year, month, day, hour, minute, second, _, off_h, off_m = (int(g) for g in match.groups())
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return off_h <= 18 and off_m < 60


def _one_of(node: _Node, valid: Sequence[str], what: str, noun: str = "values") -> str:
    """One of a fixed set of case-sensitive words, with StateFun's own wording."""
    value = node.text()
    if value not in valid:
        node.fail(
            f"Invalid {what}: {value}; valid {noun} are [{', '.join(valid)}]."
            + _did_you_mean(value, valid)
        )
    return value


# =============================================================================================
#  Endpoints (§1.4 – §1.7)
# =============================================================================================

_V1_KEYS = ("functions", "urlPathTemplate", "maxNumBatchRequests", "maxRetries", "timeouts")
_V2_KEYS = ("functions", "urlPathTemplate", "maxNumBatchRequests", "transport")
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
_V1_HINTS = {
    "transport": " `transport` is only read by io.statefun.endpoints.v2/http; a v1 endpoint"
    " always uses OkHttp, with `timeouts:` directly under spec.",
}
_V2_HINTS = {
    "transports": " The key is singular: `transport` (the StateFun Javadoc is wrong).",
    "timeouts": " In a v2 endpoint, timeouts belong to the transport: `transport: {type:"
    " io.statefun.transports.v1/okhttp, timeouts: {...}}`, or `transport: {call: 2min}` for the"
    " async default.",
}
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


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A parsed document and the binding key StateFun would register for it."""

    spec: HttpEndpointSpec | LambdaEndpointSpec | IngressSpec | EgressSpec | ExtensionDocument
    binding: tuple[str, str] | None = None
    binding_node: _Node | None = None


def _endpoint_v1(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("functions: example/*")
    _check_keys(spec, _V1_KEYS, _V1_HINTS)
    functions = spec.require("functions", "functions: example/*")
    target = _target_functions(functions, strict=True)
    url = spec.require("urlPathTemplate", "urlPathTemplate: http://localhost:8000/statefun")
    template = url.text(strict=True)
    batch = _max_batch(spec.get("maxNumBatchRequests"), strict=True)
    if (retries := spec.get("maxRetries")) is not None:
        retries.warn(
            "`maxRetries` has no effect in StateFun 3.x; retries are bounded by `timeouts.call`."
        )
    # The whole v1 spec is the OkHttp transport's properties, so `timeouts` sits under spec.
    transport = _okhttp(spec.get("timeouts"))
    _check_url(url, template, transport)
    endpoint = HttpEndpointSpec(
        functions=target,
        url_path_template=template,
        max_num_batch_requests=batch,
        transport=transport,
        kind=kind,
        source=source,
    )
    return _Parsed(endpoint, ("function", str(target)), functions)


def _endpoint_v2(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("functions: example/*")
    _check_keys(spec, _V2_KEYS, _V2_HINTS)
    functions = spec.require("functions", "functions: example/*")
    target = _target_functions(functions, strict=False)
    url = spec.require("urlPathTemplate", "urlPathTemplate: http://localhost:8000/statefun")
    template = url.text()
    batch = _max_batch(spec.get("maxNumBatchRequests"), strict=False)
    transport = _v2_transport(spec.get("transport"))
    _check_url(url, template, transport)
    endpoint = HttpEndpointSpec(
        functions=target,
        url_path_template=template,
        max_num_batch_requests=batch,
        transport=transport,
        kind=kind,
        source=source,
    )
    return _Parsed(endpoint, ("function", str(target)), functions)


def _max_batch(node: _Node | None, *, strict: bool) -> int:
    """Default 1000; a value <= 0 disables the batch limit."""
    return 1000 if node is None else node.integer(strict=strict)


def _v2_transport(node: _Node | None) -> TransportSpec:
    """Absent, or without `type`, means async (FLINK-24534; the docs still say OkHttp)."""
    if node is None:
        return AsyncTransportSpec()
    node.mapping("transport: {type: io.statefun.transports.v1/okhttp}")
    type_node = node.get("type")
    if type_node is None:
        return _async(node)
    transport_type = type_node.typename(str(ASYNC_TRANSPORT), strict=True)
    if transport_type == OKHTTP_TRANSPORT:
        _check_keys(node, ("type", "timeouts"), _OKHTTP_HINTS)
        return _okhttp(node.get("timeouts"))
    if transport_type == ASYNC_TRANSPORT:
        return _async(node)
    if transport_type == LAMBDA_URL_TRANSPORT:
        return _lambda_url(node)
    accepted = (str(ASYNC_TRANSPORT), str(OKHTTP_TRANSPORT), str(LAMBDA_URL_TRANSPORT))
    type_node.fail(
        f"unknown transport type `{transport_type}`; accepted: {ASYNC_TRANSPORT!s} (the default "
        f"when `type` is absent) and {OKHTTP_TRANSPORT!s}, plus baton's "
        f"{LAMBDA_URL_TRANSPORT!s} (SigV4-signed Lambda Function URLs)."
        + _did_you_mean(str(transport_type), accepted)
    )


def _okhttp(timeouts: _Node | None) -> OkHttpTransportSpec:
    """OkHttp timeouts: defaults 1 min / 10 s / 10 s / 10 s, none zero, none above `call`."""
    if timeouts is None:
        return OkHttpTransportSpec()
    timeouts.mapping("timeouts: {call: 1min, connect: 10s}")
    _check_keys(timeouts, _OKHTTP_TIMEOUTS)
    given = {key: _timeout(node) for key in _OKHTTP_TIMEOUTS if (node := timeouts.get(key))}
    transport = OkHttpTransportSpec(**given)
    for key in ("connect", "read", "write"):
        value = getattr(transport, key)
        if value > transport.call:
            default = "" if key in given else " (the default)"
            call_default = "" if "call" in given else " (the default)"
            at = timeouts.get(key) or timeouts.get("call") or timeouts
            at.fail(
                f"{key.capitalize()} timeout cannot be larger than request timeout: `{key}` is "
                f"{_fmt(value)}{default} but `call` is {_fmt(transport.call)}{call_default}. "
                f"Raise `call` or lower `{key}`."
            )
    return transport


def _async(props: _Node) -> AsyncTransportSpec:
    """The async (Netty) transport, including the `timeouts` precedence trap of §1.7."""
    _check_keys(props, _ASYNC_KEYS, _ASYNC_HINTS)
    defaults = AsyncTransportSpec()
    call = _timeout(node) if (node := props.get("call")) else defaults.call
    connect = _timeout(node) if (node := props.get("connect")) else defaults.connect
    if (timeouts := props.get("timeouts")) is not None:
        call, connect = _async_legacy_timeouts(props, timeouts)
    pool_ttl = props.get("pool_ttl")
    pool_size = props.get("pool_size")
    payload = props.get("payload_max_bytes")
    files = {
        key: node.text()
        for key in ("trust_cacerts", "client_cert", "client_key", "client_key_password")
        if (node := props.get(key))
    }
    _check_mutual_tls(props, files)
    return AsyncTransportSpec(
        call=call,
        connect=connect,
        pool_ttl=defaults.pool_ttl if pool_ttl is None else pool_ttl.duration(),  # 0 disables
        pool_size=defaults.pool_size
        if pool_size is None
        else pool_size.integer(lo=1, hi=_INT32[1], example="1024"),
        payload_max_bytes=defaults.payload_max_bytes
        if payload is None
        else payload.integer(lo=1, hi=_INT32[1], example="33554432"),
        **files,
    )


def _async_legacy_timeouts(props: _Node, timeouts: _Node) -> tuple[timedelta, timedelta]:
    """`timeouts.call/connect` win, with *their own* defaults (1 min, 10 s), over `call/connect`."""
    timeouts.mapping("timeouts: {call: 2min, connect: 20s}")
    _check_keys(timeouts, ("call", "connect"), _ASYNC_HINTS)
    call = _timeout(node) if (node := timeouts.get("call")) else timedelta(minutes=1)
    connect = _timeout(node) if (node := timeouts.get("connect")) else timedelta(seconds=10)
    for key in ("call", "connect"):
        if (top := props.get(key)) is not None:
            top.warn(
                f"`{key}` is ignored because a `timeouts` block is present: StateFun then uses "
                f"`timeouts.{key}` ({_fmt(call if key == 'call' else connect)}). "
                "Move the value into `timeouts:` or drop the block."
            )
    return call, connect


def _check_mutual_tls(props: _Node, files: dict[str, str]) -> None:
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


def _timeout(node: _Node) -> timedelta:
    value = node.duration()
    if value == timedelta(0):
        node.fail(f"Timeout durations must be larger than 0. Write e.g. `{node.name}: 10s`.")
    return value


def _fmt(value: timedelta) -> str:
    seconds = value.total_seconds()
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    if seconds >= 1 and seconds == int(seconds):
        return f"{int(seconds)} s"
    return f"{seconds * 1000:g} ms"


# =============================================================================================
#  baton-only Lambda additions: `baton.endpoints.v1/lambda`, `baton.transports.v1/lambda-url`
# =============================================================================================

_CLUSTER_ALTERNATIVE = (
    "On a real StateFun cluster, give the function a Function URL with auth type NONE (or put an "
    "API Gateway in front of it) and bind that URL with a plain io.statefun.endpoints.v2/http "
    "endpoint (`urlPathTemplate: https://<url-id>.lambda-url.<region>.on.aws/`, default async "
    "transport), as in StateFun's official aws-lambda deployment example."
)
_STRICT_LAMBDA_ENDPOINT = (
    f"`{LAMBDA_ENDPOINT}` is a baton extension: it calls Lambda's Invoke API with AWS "
    "credentials, which a real StateFun cluster cannot do. " + _CLUSTER_ALTERNATIVE
)
_STRICT_LAMBDA_URL = (
    f"`{LAMBDA_URL_TRANSPORT}` is a baton extension: a real StateFun cluster cannot sign "
    "requests with SigV4 (it only has io.statefun.transports.v1/async and okhttp), so a Function "
    "URL with auth type AWS_IAM rejects its calls with 403. " + _CLUSTER_ALTERNATIVE
)

_LAMBDA_KEYS = (
    "functions",
    "functionName",
    "qualifier",
    "region",
    "endpointUrl",
    "maxNumBatchRequests",
    "timeouts",
    "call",
)
_LAMBDA_HINTS = {
    "urlPathTemplate": f" A {LAMBDA_ENDPOINT} endpoint names its function with `functionName`;"
    f" to call a Function URL, use io.statefun.endpoints.v2/http (with `transport: {{type:"
    f" {LAMBDA_URL_TRANSPORT}}}` if its auth type is AWS_IAM).",
    "transport": f" A {LAMBDA_ENDPOINT} endpoint has no transport; write `call: 2min` directly"
    " under spec.",
    "functionArn": " Write the ARN in `functionName`.",
    "alias": " Write the alias or version in `qualifier`.",
    "version": " Write the alias or version in `qualifier`.",
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
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_LAMBDA_NAME = re.compile(r"[A-Za-z0-9_-]+")
_LAMBDA_QUALIFIER = re.compile(r"\$LATEST|[A-Za-z0-9_-]{1,128}")
_LAMBDA_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[^:]*):(?P<account>[^:]*)"
    r":function:(?P<rest>.*)"
)
_LAMBDA_PARTIAL_ARN = re.compile(r"(?P<account>\d{12}):function:(?P<rest>.*)")
_FUNCTION_NAME_EXAMPLE = (
    "functionName: example-{function.name} (a name, name:alias, or "
    "arn:aws:lambda:us-east-1:123456789012:function:example-{function.name})"
)


def _endpoint_lambda(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("functions: example/*")
    _check_keys(spec, _LAMBDA_KEYS, _LAMBDA_HINTS)
    functions = spec.require("functions", "functions: example/*")
    target = _target_functions(functions, strict=False)
    name_node = spec.require("functionName", "functionName: example-{function.name}")
    function_name = name_node.text(example=_FUNCTION_NAME_EXAMPLE)
    arn_region, name_qualifier = _check_function_name(name_node, function_name)
    qualifier = None
    if (qualifier_node := spec.get("qualifier")) is not None:
        qualifier = qualifier_node.text(example="qualifier: live")
        if not _LAMBDA_QUALIFIER.fullmatch(qualifier):
            qualifier_node.fail(
                f"`qualifier` {qualifier!r} is not a Lambda version or alias: use `$LATEST`, a "
                "version number or an alias name (letters, digits, `-`, `_`; at most 128)."
            )
        if name_qualifier is not None and name_qualifier != qualifier:
            qualifier_node.fail(
                f"`qualifier` {qualifier!r} contradicts the qualifier {name_qualifier!r} in "
                f"`functionName` {function_name!r}; Lambda rejects such a call. Keep only one."
            )
    region = None
    if (region_node := spec.get("region")) is not None:
        region = _aws_region_name(region_node)
        if arn_region is not None and "{" not in arn_region and arn_region != region:
            region_node.fail(
                f"`region` {region!r} contradicts the region {arn_region!r} of the ARN in "
                "`functionName`; a function is invoked in the region of its ARN. Drop `region`."
            )
    endpoint_url = None
    if (url_node := spec.get("endpointUrl")) is not None:
        endpoint_url = _endpoint_url(url_node)
    batch = _max_batch(spec.get("maxNumBatchRequests"), strict=False)
    endpoint = LambdaEndpointSpec(
        functions=target,
        function_name=function_name,
        qualifier=qualifier,
        region=region,
        endpoint_url=endpoint_url,
        max_num_batch_requests=batch,
        call=_lambda_call(spec),
        kind=kind,
        source=source,
    )
    return _Parsed(endpoint, ("function", str(target)), functions)


def _check_function_name(node: _Node, template: str) -> tuple[str | None, str | None]:
    """A Lambda function name, partial ARN or ARN once `{function.name}` is filled in.

    Returns the ARN's region (None for a plain name) and the qualifier written in the name.
    """
    name = template.replace("{function.name}", "fn")
    if "{" in name or "}" in name:
        node.fail(
            f"`functionName` {template!r} has an unknown placeholder; the only placeholder is "
            "{function.name} (the function type's name)."
        )
    region = None
    rest = name
    if (arn := _LAMBDA_ARN.fullmatch(name)) is not None:
        region, account, rest = arn["region"], arn["account"], arn["rest"]
        if not _REGION.fullmatch(region):
            node.fail(
                f"`functionName` {template!r} is an ARN with the region {region!r}, which is not "
                f"an AWS region such as us-east-1. Write e.g. `{_FUNCTION_NAME_EXAMPLE}`."
            )
        _check_account(node, template, account)
    elif name.startswith("arn:"):
        node.fail(
            f"`functionName` {template!r} is not a Lambda function ARN; write "
            "arn:aws:lambda:<region>:<account>:function:<name>[:<alias>], or just the name."
        )
    elif (partial := _LAMBDA_PARTIAL_ARN.fullmatch(name)) is not None:
        _check_account(node, template, partial["account"])
        rest = partial["rest"]
    function, _, qualifier = rest.partition(":")
    if not _LAMBDA_NAME.fullmatch(function) or ":" in qualifier:
        node.fail(
            f"`functionName` {template!r} is not a valid Lambda function name: names use "
            f"letters, digits, `-` and `_`, optionally followed by `:alias`. "
            f"Write e.g. `{_FUNCTION_NAME_EXAMPLE}`."
        )
    if len(function) > 64 and "{function.name}" not in template:
        node.fail(f"`functionName` {template!r}: a Lambda function name has at most 64 characters.")
    if qualifier and not _LAMBDA_QUALIFIER.fullmatch(qualifier):
        node.fail(
            f"`functionName` {template!r} ends in the qualifier {qualifier!r}, which is not a "
            "version or alias (`$LATEST`, a number, or letters, digits, `-`, `_`)."
        )
    return region, qualifier or None


def _check_account(node: _Node, template: str, account: str) -> None:
    if not re.fullmatch(r"\d{12}", account):
        node.fail(
            f"`functionName` {template!r} names the account {account!r}; an AWS account id has "
            "exactly 12 digits."
        )


def _aws_region_name(node: _Node) -> str:
    region = node.text(strict=True, example="region: us-east-1")
    if not _REGION.fullmatch(region):
        node.fail(
            f"`region` {region!r} is not an AWS region name; write e.g. `region: us-east-1`."
            + _did_you_mean(region.lower().replace("_", "-"), ("us-east-1", "eu-west-1"))
        )
    return region


def _endpoint_url(node: _Node) -> str:
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


def _lambda_call(spec: _Node) -> timedelta:
    """`call: 2min` or `timeouts: {call: 2min}` (not both); default 2 min like async."""
    call = spec.get("call")
    if (timeouts := spec.get("timeouts")) is not None:
        timeouts.mapping("timeouts: {call: 2min}")
        _check_keys(
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
    return timedelta(minutes=2) if call is None else _timeout(call)


def _lambda_url(props: _Node) -> LambdaUrlTransportSpec:
    """`baton.transports.v1/lambda-url`: the async transport's pool and budget, plus SigV4."""
    refused = ("timeouts", "trust_cacerts", "client_cert", "client_key", "client_key_password")
    _check_keys(props, _LAMBDA_URL_KEYS + refused, _LAMBDA_URL_HINTS)
    for key in refused:
        if (node := props.get(key)) is not None:
            node.fail(
                f"`{key}` is not supported by {LAMBDA_URL_TRANSPORT}.{_LAMBDA_URL_HINTS[key]}"
            )
    defaults = LambdaUrlTransportSpec()
    region = _aws_region_name(node) if (node := props.get("region")) else None
    service = defaults.service
    if (node := props.get("service")) is not None:
        service = node.text(strict=True, example="service: lambda")
        if not re.fullmatch(r"[a-z0-9-]+", service):
            node.fail(
                f"`service` {service!r} is not a SigV4 service name; use `lambda` for a Function "
                "URL (the default) or `execute-api` for an API Gateway with IAM auth."
            )
    pool_ttl = props.get("pool_ttl")
    pool_size = props.get("pool_size")
    payload = props.get("payload_max_bytes")
    return LambdaUrlTransportSpec(
        region=region,
        service=service,
        call=_timeout(node) if (node := props.get("call")) else defaults.call,
        connect=_timeout(node) if (node := props.get("connect")) else defaults.connect,
        pool_ttl=defaults.pool_ttl if pool_ttl is None else pool_ttl.duration(),
        pool_size=defaults.pool_size
        if pool_size is None
        else pool_size.integer(lo=1, hi=_INT32[1], example="1024"),
        payload_max_bytes=defaults.payload_max_bytes
        if payload is None
        else payload.integer(lo=1, hi=_INT32[1], example="33554432"),
    )


def _lambda_url_type(spec: _Node) -> _Node | None:
    """The `transport.type` node of a v2 endpoint when it names the lambda-url transport."""
    transport = spec.value.get("transport") if spec.is_map else None
    type_node = transport.value.get("type") if transport is not None and transport.is_map else None
    if type_node is None or not isinstance(type_node.value, str):
        return None
    try:
        return type_node if TypeName.parse(type_node.value) == LAMBDA_URL_TRANSPORT else None
    except ValueError:
        return None


# =============================================================================================
#  Kafka (§1.8, §1.9)
# =============================================================================================

_KAFKA_INGRESS_KEYS = (
    "id",
    "address",
    "consumerGroupId",
    "topics",
    "autoOffsetResetPosition",
    "startupPosition",
    "properties",
)
_KAFKA_STARTUP_TYPES = ("group-offsets", "earliest", "latest", "specific-offsets", "date")
_PROPERTY_HINT = (
    " Settings passed to the Kafka client go under `properties:` as `- key: value` items."
)


def _kafka_ingress(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("id: example/names")
    _check_keys(
        spec, _KAFKA_INGRESS_KEYS, {"bootstrap.servers": _PROPERTY_HINT, "group.id": _PROPERTY_HINT}
    )
    id_node = spec.require("id", "id: example/names")
    ingress_id = id_node.typename("example/names")
    properties = _properties(spec.get("properties"))
    address = _kafka_setting(spec, "address", properties)
    group = _kafka_setting(spec, "consumerGroupId", properties)
    topics = _routes(spec, "topics", "topic", KafkaTopicRoute, "Kafka")
    reset = spec.get("autoOffsetResetPosition")
    position, offsets, date = _kafka_startup(spec.get("startupPosition"))
    ingress = KafkaIngressSpec(
        id=ingress_id,
        address=address,
        consumer_group_id=group,
        topics=topics,
        auto_offset_reset_position="latest" if reset is None else _auto_offset_reset(reset),
        startup_position=position,
        startup_specific_offsets=offsets,
        startup_date=date,
        properties=properties,
        kind=kind,
        source=source,
    )
    return _Parsed(ingress, ("ingress", str(ingress_id)), id_node)


# Named field → (Kafka client property that may stand in for it, StateFun's message, example).
_KAFKA_SETTINGS = {
    "address": ("bootstrap.servers", "Missing setting for Kafka address.", "address: kafka:9092"),
    "consumerGroupId": (
        "group.id",
        "Missing setting for consumer group id.",
        "consumerGroupId: my-group",
    ),
}


def _kafka_setting(spec: _Node, key: str, properties: dict[str, str]) -> str:
    """A named field, else its Kafka property; the named field wins when both are set."""
    prop, statefun, example = _KAFKA_SETTINGS[key]
    if (node := spec.get(key)) is not None:
        return node.text()
    if prop in properties:
        return properties[prop]
    spec.missing(key, f"{statefun} Add `{example}` (or a `{prop}` entry under `properties`).")


def _routes(spec: _Node, section: str, source_key: str, route_type: type, system: str) -> tuple:
    """The non-empty `topics`/`streams` list of a routable ingress."""
    node = spec.get(section)
    example = (
        f"\n  {section}:\n    - {source_key}: names\n      valueType: io.statefun.types/string"
    )
    items = [] if node is None else node.items(f"{example}\n      targets: [example/person]")
    if not items:
        at = node or spec
        raise ModuleError(
            f"Must define at least one {system} {source_key} to consume from. Add e.g.{example}"
            "\n      targets: [example/person]",
            file=at.file,
            line=at.line,
            field=spec.child_path(section),
        )
    routes: dict[str, Any] = {}
    for item in items:
        route = _route(item, source_key, route_type)
        name = getattr(route, source_key)
        if name in routes:
            item.warn(
                f"{source_key} `{name}` is listed twice; "
                "StateFun keeps only the last routing for it."
            )
        routes[name] = route
    return tuple(routes.values())


def _route(item: _Node, source_key: str, route_type: type) -> Any:
    """One `{topic|stream, valueType, targets}` routing entry."""
    item.mapping(f"- {source_key}: names")
    _check_keys(item, (source_key, "valueType", "targets"))
    name = item.require(source_key, f"{source_key}: names").text()
    value_type = item.require("valueType", "valueType: io.statefun.types/string")
    # StateFun reads valueType with textValue(): only a real string works.
    type_name = value_type.typename("io.statefun.types/string", strict=True)
    targets = _targets(item.require("targets", "targets: [example/person]"))
    return route_type(name, type_name, targets)


def _auto_offset_reset(node: _Node) -> str:
    value = node.text()
    if value.upper() not in ("EARLIEST", "LATEST"):
        node.fail(
            f"Invalid autoOffsetResetPosition: {value}; "
            "valid values are [EARLIEST, LATEST] (case-insensitive)."
        )
    return value.lower()


def _kafka_startup(node: _Node | None) -> tuple[Any, dict[str, int], str | None]:
    """(type, specific offsets, date); the code default is `latest` (the docs say group-offsets)."""
    if node is None:
        return "latest", {}, None
    node.mapping("startupPosition: {type: earliest}")
    _check_keys(node, ("type", "offsets", "date"))
    kind = _one_of(
        node.require("type", "type: earliest"), _KAFKA_STARTUP_TYPES, "startup position type"
    )
    if kind == "specific-offsets":
        return kind, _specific_offsets(node.require("offsets", "offsets: [{names/0: 42}]")), None
    if kind == "date":
        return kind, {}, _startup_date(node.require("date", "date: 2020-02-01 04:15:00.000 +0000"))
    return kind, {}, None


def _specific_offsets(node: _Node) -> dict[str, int]:
    offsets: dict[str, int] = {}
    for item in node.items("`offsets: [{names/0: 42}]`"):
        entries = item.mapping("- names/0: 42")
        if not entries:
            item.fail("an offsets entry must hold one `<topic>/<partition>: <offset>` pair.")
        key, value = next(iter(entries.items()))
        parts = key.split("/")
        while parts and parts[-1] == "":  # Java String.split drops trailing empty parts
            parts.pop()
        if len(parts) != 2 or not re.fullmatch(r"[+-]?\d+", parts[1]):
            value.fail(
                f"{key} does not conform to the <topic>/<partition_id> format, e.g. `names/0: 42`."
            )
        offsets[key] = value.integer(example="42", lo=-(2**63), hi=2**63 - 1)
    return offsets


_KAFKA_EGRESS_KEYS = ("id", "address", "deliverySemantic", "properties")
_DELIVERY = ("at-least-once", "exactly-once", "none")


def _kafka_egress(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("id: example/greets")
    _check_keys(spec, _KAFKA_EGRESS_KEYS, {"bootstrap.servers": _PROPERTY_HINT})
    id_node = spec.require("id", "id: example/greets")
    egress_id = id_node.typename("example/greets")
    # StateFun fails with a NullPointerException without `address`, even with bootstrap.servers.
    address = spec.require("address", "address: kafka:9092").text()
    semantic, timeout = _delivery_semantic(spec.get("deliverySemantic"))
    egress = KafkaEgressSpec(
        id=egress_id,
        address=address,
        delivery_semantic=semantic,
        transaction_timeout=timeout,
        properties=_properties(spec.get("properties")),
        kind=kind,
        source=source,
    )
    return _Parsed(egress, ("egress", str(egress_id)), id_node)


def _delivery_semantic(node: _Node | None) -> tuple[Any, timedelta | None]:
    if node is None:
        return "at-least-once", None
    node.mapping("deliverySemantic: {type: at-least-once}")
    _check_keys(node, ("type", "transactionTimeoutMillis", "transactionTimeout"))
    semantic = _one_of(
        node.require("type", "type: at-least-once"), _DELIVERY, "delivery semantic type", "types"
    )
    if semantic != "exactly-once":
        return semantic, None
    millis, duration = node.get("transactionTimeoutMillis"), node.get("transactionTimeout")
    if millis is not None:
        if duration is not None:
            duration.warn(
                "`transactionTimeout` is ignored: the deprecated `transactionTimeoutMillis` "
                "wins, as in StateFun."
            )
        return semantic, timedelta(
            milliseconds=millis.integer(example="900000", lo=0, hi=2**63 - 1)
        )
    if duration is None:
        node.missing(
            "transactionTimeout",
            "Delivery semantic `exactly-once` needs a transaction timeout; "
            "add e.g. `transactionTimeout: 15min`.",
        )
    return semantic, duration.duration()


# =============================================================================================
#  Kinesis (§1.10)
# =============================================================================================

_REGION_TYPES = ("default", "specific", "custom-endpoint")
_CREDENTIAL_TYPES = ("default", "basic", "profile")
_KINESIS_INGRESS_KEYS = (
    "id",
    "awsRegion",
    "awsCredentials",
    "startupPosition",
    "streams",
    "clientConfigProperties",
)
_KINESIS_EGRESS_KEYS = (
    "id",
    "awsRegion",
    "awsCredentials",
    "maxOutstandingRecords",
    "clientConfigProperties",
)


def _aws_region(node: _Node | None) -> AwsRegion:
    if node is None:
        return AwsRegion()
    node.mapping("awsRegion: {type: specific, id: us-west-1}")
    _check_keys(node, ("type", "id", "endpoint"))
    kind = _one_of(node.require("type", "type: specific"), _REGION_TYPES, "AWS region type")
    if kind == "specific":
        return AwsRegion("specific", id=node.require("id", "id: us-west-1").text())
    if kind == "custom-endpoint":
        endpoint = node.require("endpoint", "endpoint: https://localhost:4567").text()
        return AwsRegion(
            "custom-endpoint", id=node.require("id", "id: us-west-1").text(), endpoint=endpoint
        )
    return AwsRegion()


def _aws_credentials(node: _Node | None) -> AwsCredentials:
    if node is None:
        return AwsCredentials()
    node.mapping("awsCredentials: {type: basic, accessKeyId: ..., secretAccessKey: ...}")
    _check_keys(node, ("type", "accessKeyId", "secretAccessKey", "profileName", "profilePath"))
    kind = _one_of(node.require("type", "type: default"), _CREDENTIAL_TYPES, "AWS credential type")
    if kind == "basic":
        return AwsCredentials(
            "basic",
            access_key_id=node.require("accessKeyId", "accessKeyId: AKIA...").text(),
            secret_access_key=node.require("secretAccessKey", "secretAccessKey: ...").text(),
        )
    if kind == "profile":
        path = node.get("profilePath")
        return AwsCredentials(
            "profile",
            profile_name=node.require("profileName", "profileName: my-profile").text(),
            profile_path=None if path is None else path.text(),
        )
    return AwsCredentials()


def _kinesis_ingress(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("id: example/names")
    _check_keys(spec, _KINESIS_INGRESS_KEYS)
    id_node = spec.require("id", "id: example/names")
    ingress_id = id_node.typename("example/names")
    position, date = _kinesis_startup(spec.get("startupPosition"))
    ingress = KinesisIngressSpec(
        id=ingress_id,
        streams=_routes(spec, "streams", "stream", KinesisStreamRoute, "Kinesis"),
        aws_region=_aws_region(spec.get("awsRegion")),
        aws_credentials=_aws_credentials(spec.get("awsCredentials")),
        startup_position=position,
        startup_date=date,
        client_config_properties=_properties(spec.get("clientConfigProperties")),
        kind=kind,
        source=source,
    )
    return _Parsed(ingress, ("ingress", str(ingress_id)), id_node)


def _kinesis_startup(node: _Node | None) -> tuple[Any, str | None]:
    if node is None:
        return "latest", None
    node.mapping("startupPosition: {type: earliest}")
    _check_keys(node, ("type", "date"))
    kind = _one_of(
        node.require("type", "type: earliest"),
        ("earliest", "latest", "date"),
        "startup position type",
    )
    if kind == "date":
        return kind, _startup_date(node.require("date", "date: 2020-02-01 04:15:00.000 +0000"))
    return kind, None


def _kinesis_egress(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("id: example/greets")
    _check_keys(spec, _KINESIS_EGRESS_KEYS)
    id_node = spec.require("id", "id: example/greets")
    egress_id = id_node.typename("example/greets")
    outstanding = spec.get("maxOutstandingRecords")
    egress = KinesisEgressSpec(
        id=egress_id,
        aws_region=_aws_region(spec.get("awsRegion")),
        aws_credentials=_aws_credentials(spec.get("awsCredentials")),
        max_outstanding_records=1000
        if outstanding is None
        else outstanding.integer(lo=1, hi=_INT32[1]),
        client_config_properties=_properties(spec.get("clientConfigProperties")),
        kind=kind,
        source=source,
    )
    return _Parsed(egress, ("egress", str(egress_id)), id_node)


# =============================================================================================
#  Playground (§1.11) and baton extensions
# =============================================================================================


def _port(spec: _Node) -> int:
    node = spec.require("port", "port: 8090")
    port = node.integer(example="8090", lo=0, hi=65535)
    return port  # 0 asks the OS for a free port: a baton addition, handy in tests


def _playground_ingress(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("port: 8090")
    _check_keys(spec, ("port",))
    ingress = PlaygroundIngressSpec(port=_port(spec), kind=kind, source=source)
    return _Parsed(ingress, ("ingress", str(ingress.id)), spec)


def _playground_egress(spec: _Node, kind: str, source: SourceLocation) -> _Parsed:
    spec.mapping("port: 8091")
    _check_keys(spec, ("port", "topics"))
    port = _port(spec)
    node = spec.require("topics", "topics: [greetings]")
    topics = [item.text(example="- greetings") for item in node.items("`topics: [greetings]`")]
    if not topics:
        node.fail(
            "`topics` must list at least one topic that functions publish to, "
            "e.g. `topics: [greetings]`."
        )
    for i, topic in enumerate(topics):
        if topic in topics[:i]:
            node.value[i].warn(f"topic `{topic}` is listed twice.")
    egress = PlaygroundEgressSpec(
        port=port, topics=tuple(dict.fromkeys(topics)), kind=kind, source=source
    )
    return _Parsed(egress, ("egress", str(egress.id)), spec)


_PARSERS: dict[str, Callable[[_Node, str, SourceLocation], _Parsed]] = {
    ENDPOINT_V1: _endpoint_v1,
    ENDPOINT_V2: _endpoint_v2,
    KAFKA_INGRESS: _kafka_ingress,
    KAFKA_EGRESS: _kafka_egress,
    KINESIS_INGRESS: _kinesis_ingress,
    KINESIS_EGRESS: _kinesis_egress,
    PLAYGROUND_INGRESS: _playground_ingress,
    PLAYGROUND_EGRESS: _playground_egress,
}
# baton's own kinds with a typed spec (other `baton.*` kinds stay raw ExtensionDocuments)
_BATON_PARSERS: dict[str, Callable[[_Node, str, SourceLocation], _Parsed]] = {
    LAMBDA_ENDPOINT: _endpoint_lambda,
}


# =============================================================================================
#  Documents: the component envelope (§1.2) and the legacy format (§1.12)
# =============================================================================================

_ENVELOPE = (
    "(StateFun: Invalid ComponentJsonObject; components should be a JSON object with the required "
    "fields [kind] and [spec].)"
)
_LEGACY_KINDS = {
    "http": ENDPOINT_V1,
    "io.statefun.kafka/ingress": KAFKA_INGRESS,
    "io.statefun.kafka/egress": KAFKA_EGRESS,
    "io.statefun.kinesis/ingress": KINESIS_INGRESS,
    "io.statefun.kinesis/egress": KINESIS_EGRESS,
}
_KNOWN_VERSIONS = ("1.0", "2.0", "3.0", "3.1")
_LEGACY_ONLY_30 = 'StateFun 3.3 loads only the legacy version "3.0"'
_SPEC_KEYS = frozenset(
    _V2_KEYS
    + _V1_KEYS
    + _KAFKA_INGRESS_KEYS
    + _KAFKA_EGRESS_KEYS
    + _KINESIS_INGRESS_KEYS
    + _KINESIS_EGRESS_KEYS
    + ("port", "topics")
    + _LAMBDA_KEYS
)


@dataclass(frozen=True, slots=True)
class _Component:
    """A `kind` + `spec` pair, from a document or from a legacy list item."""

    kind_node: _Node
    spec: _Node
    kind: TypeName
    line: int


class _Loader:
    """Accumulates parsed documents and problems across files."""

    def __init__(self, strict_statefun: bool) -> None:
        self.strict = strict_statefun
        self.files: list[str] = []
        self.parsed: list[_Parsed] = []
        self.errors: list[ModuleError] = []

    def add_text(self, text: str, file: str) -> None:
        self.files.append(file)
        try:
            documents = _documents(text, file)
        except ModuleError as error:
            self.errors.append(error)
            return
        if len(documents) == 1 and documents[0].is_map and "version" in documents[0].value:
            self._guard(lambda: self._legacy(documents[0]))
            return
        present = [doc for doc in documents if not doc.is_null]
        if not present:
            _warn(file, None, None, "the file holds no module documents.")
        for doc in present:
            self._guard(lambda doc=doc: self._bind(self._component(doc)))

    def _guard(self, step: Callable[[], None]) -> None:
        try:
            step()
        except ModuleError as error:
            self.errors.append(error)

    def _component(self, doc: _Node) -> _Component:
        if not doc.is_map:
            doc.fail(
                "a module document must be a mapping with the keys `kind` and `spec`, "
                f"got {_describe(doc)}. {_ENVELOPE}"
            )
        legacy = (
            " This looks like a legacy `version:` module, "
            "which must be the only document in its file."
            if "version" in doc.value
            else ""
        )
        for key in ("kind", "spec"):
            if key not in doc.value:
                doc.missing(key, f"Every document needs `kind:` and `spec:`.{legacy} {_ENVELOPE}")
        # StateFun ignores other top-level keys; a stray `id:` or `port:` usually belongs in spec.
        _check_keys(doc, ("kind", "spec"), {key: " Put it under `spec:`." for key in _SPEC_KEYS})
        kind_node = doc.value["kind"]
        kind = kind_node.typename("io.statefun.endpoints.v2/http")
        return _Component(kind_node, doc.value["spec"], kind, kind_node.line)

    def _bind(self, component: _Component) -> None:
        kind, spec = component.kind, component.spec
        source = SourceLocation(spec.file, component.line)
        parser = _PARSERS.get(str(kind)) or _BATON_PARSERS.get(str(kind))
        if self.strict:
            _reject_baton_endpoints(component)
        if parser is None and kind.namespace.startswith("baton.endpoints."):
            component.kind_node.fail(
                f"unknown baton endpoint kind `{kind}`; baton's endpoint kind is "
                f"{LAMBDA_ENDPOINT}.{_did_you_mean(str(kind), _BATON_PARSERS)}"
            )
        if parser is not None:
            self.parsed.append(parser(spec, str(kind), source))
        elif is_baton_extension(kind) and not self.strict:
            self.parsed.append(
                _Parsed(ExtensionDocument(kind, _to_plain(spec), source, _lines(spec)))
            )
        else:
            component.kind_node.fail(self._unknown_kind(kind))

    def _unknown_kind(self, kind: TypeName) -> str:
        if is_baton_extension(kind):
            return (
                f"`{kind}` is a baton extension; a real StateFun cluster rejects it — run "
                "`baton build` to strip it (or load without strict_statefun)."
            )
        return (
            f"unknown kind `{kind}` (StateFun: An extension with type TypeName({kind.namespace}, "
            f"{kind.name}) does not exist.). Accepted kinds: {', '.join(STATEFUN_KINDS)}, and "
            f"`baton.*` extensions.{_did_you_mean(str(kind), STATEFUN_KINDS)}"
        )

    # -- legacy `version: "3.0"` ----------------------------------------------------------------

    def _legacy(self, root: _Node) -> None:
        version_node = root.value["version"]
        version = version_node.text(strict=True, example='version: "3.0"')
        module = root.get("module")
        meta_type = _legacy_meta_type(root, module)
        if meta_type.text().lower() != "remote":
            meta_type.fail(
                f"Unknown module type {meta_type.text()}, currently supported: REMOTE. "
                "Write `type: remote`."
            )
        _check_legacy_version(version_node, version)
        spec = module.get("spec") if module is not None and module.is_map else None
        if spec is None:
            root.fail(
                f"A module without a spec at {root.file}. "
                "Add `module.spec` with `endpoints`, `ingresses` and `egresses` lists."
            )
        spec.mapping("spec: {endpoints: [...]}")
        _check_keys(spec, ("endpoints", "ingresses", "egresses"))
        for section, key in (
            ("endpoints", "endpoint"),
            ("ingresses", "ingress"),
            ("egresses", "egress"),
        ):
            items = spec.get(section)
            for item in (
                [] if items is None else items.items(f"`{section}:` followed by `- {key}:` items")
            ):
                self._guard(lambda item=item, key=key: self._bind(_legacy_component(item, key)))


def _reject_baton_endpoints(component: _Component) -> None:
    """In strict StateFun mode, say what a real cluster uses instead of baton's Lambda kinds."""
    if str(component.kind) in _BATON_PARSERS:
        component.kind_node.fail(_STRICT_LAMBDA_ENDPOINT)
    if str(component.kind) == ENDPOINT_V2 and (node := _lambda_url_type(component.spec)):
        node.fail(_STRICT_LAMBDA_URL)


def _legacy_meta_type(root: _Node, module: _Node | None) -> _Node:
    meta = module.get("meta") if module is not None and module.is_map else None
    meta_type = meta.get("type") if meta is not None and meta.is_map else None
    if meta_type is None:
        # A single document with a top-level `version` is always read as the legacy format.
        stray = (
            " Or remove `version`: it makes StateFun read the file as the legacy format."
            if "kind" in root.value
            else ""
        )
        root.fail(
            f"Unable to find a module type in {root.file}. "
            f"Add `module: {{meta: {{type: remote}}}}`.{stray}"
        )
    return meta_type


def _check_legacy_version(node: _Node, version: str) -> None:
    if version not in _KNOWN_VERSIONS:
        node.fail(
            f"Unrecognized format version: {version}. "
            f"{_LEGACY_ONLY_30}; newer files use `kind:`/`spec:` documents."
        )
    if version < "3.0":
        node.fail(
            "Only format versions higher than or equal to 3.0 is supported. "
            f"Was version {version}. Rewrite the file as `kind:`/`spec:` documents."
        )
    if version != "3.0":
        node.fail(
            f"Unrecognized format version: {version}. "
            f"{_LEGACY_ONLY_30}; write `kind:`/`spec:` documents instead."
        )


def _legacy_component(item: _Node, key: str) -> _Component:
    return _legacy_endpoint(item) if key == "endpoint" else _legacy_io(item, key)


def _legacy_endpoint(item: _Node) -> _Component:
    """`- endpoint: {meta: {kind}, spec}`; kind `http` means io.statefun.endpoints.v1/http."""
    entry = item.require("endpoint", "endpoint: {meta: {kind: http}, spec: {...}}")
    meta = entry.require("meta", "meta: {kind: http}")
    kind_node = meta.require("kind", "kind: http")
    kind = _legacy_kind(kind_node)
    spec = entry.require(
        "spec", "spec: {functions: example/*, urlPathTemplate: http://localhost:8000/statefun}"
    )
    return _Component(kind_node, spec, kind, entry.line)


def _legacy_io(item: _Node, key: str) -> _Component:
    """`- ingress|egress: {meta: {type, id}, spec}`; meta.id is copied into the spec as `id`."""
    entry = item.require(
        key, f"{key}: {{meta: {{type: io.statefun.kafka/{key}, id: example/{key}}}, spec: {{...}}}}"
    )
    meta = entry.require("meta", f"meta: {{type: io.statefun.kafka/{key}, id: example/{key}}}")
    kind_node = meta.require("type", f"type: io.statefun.kafka/{key}")
    id_node = meta.require("id", f"id: example/{key}")
    id_node.text(strict=True, example=f"id: example/{key}")
    spec = entry.require("spec", "spec: {...}")
    spec.mapping("spec: {address: kafka:9092}")
    with_id = _Node({**spec.value, "id": id_node}, None, spec.line, spec.path, spec.file)
    return _Component(kind_node, with_id, _legacy_kind(kind_node), entry.line)


def _legacy_kind(node: _Node) -> TypeName:
    text = node.text(strict=True)
    return (
        TypeName.parse(_LEGACY_KINDS[text])
        if text in _LEGACY_KINDS
        else node.typename("io.statefun.kafka/ingress", strict=True)
    )


# =============================================================================================
#  Merging, duplicate bindings, public API
# =============================================================================================


def _duplicates(parsed: list[_Parsed]) -> list[ModuleError]:
    """StateFun's `putAndThrowIfPresent`, across every loaded file."""
    first_seen: dict[tuple[str, str], _Node] = {}
    errors = []
    for item in parsed:
        if item.binding is None or item.binding_node is None:
            continue
        node = item.binding_node
        if (previous := first_seen.get(item.binding)) is not None:
            what, key = item.binding
            errors.append(
                ModuleError(
                    f"A binding for the key {key} was previously defined at "
                    f"{previous.file}:{previous.line}. Each function type, namespace wildcard, "
                    "ingress id and egress id can be bound only once across all module files; "
                    f"remove or rename one of the two {what} bindings.",
                    file=node.file,
                    line=node.line,
                    field=node.path or None,
                )
            )
        else:
            first_seen[item.binding] = node
    return errors


def _finish(loader: _Loader) -> ModuleSpec:
    errors = loader.errors + _duplicates(loader.parsed)
    if errors:
        order = {file: i for i, file in enumerate(loader.files)}
        errors.sort(key=lambda e: (order.get(e.file or "", len(order)), e.line or 0))
        raise ModuleError.collected(errors)
    specs = [item.spec for item in loader.parsed]
    return ModuleSpec(
        endpoints=tuple(s for s in specs if isinstance(s, (HttpEndpointSpec, LambdaEndpointSpec))),
        ingresses=tuple(s for s in specs if isinstance(s, IngressSpec)),
        egresses=tuple(s for s in specs if isinstance(s, EgressSpec)),
        extensions=tuple(s for s in specs if isinstance(s, ExtensionDocument)),
        files=tuple(loader.files),
    )


def _module_file(path: Path) -> Path:
    """A directory stands for its `module.yaml`, as in StateFun's module directories."""
    return path / "module.yaml" if path.is_dir() else path


def load_module(
    paths: str | Path | Sequence[str | Path], *, strict_statefun: bool = False
) -> ModuleSpec:
    """Load and merge one or more module.yaml files (or directories holding one)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    loader = _Loader(strict_statefun)
    for given in paths:
        path = _module_file(Path(given))
        name = str(path) if path != Path(given) else str(given)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            loader.files.append(name)
            loader.errors.append(ModuleError("file not found; check the path.", file=name))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            loader.files.append(name)
            loader.errors.append(ModuleError(f"cannot read the file: {exc}", file=name))
            continue
        loader.add_text(text, name)
    return _finish(loader)


def load_module_text(
    text: str, filename: str = "<string>", *, strict_statefun: bool = False
) -> ModuleSpec:
    """Load module.yaml content given as a string (for tests and tools)."""
    loader = _Loader(strict_statefun)
    loader.add_text(text, filename)
    return _finish(loader)


def validate_application(module: ModuleSpec) -> None:
    """Whole-application startup checks of StateFun (statefun-reference §9 item 20)."""
    # StateFun also refuses to start without any ingress. baton always runs its own HTTP ingress,
    # so an application without a declared ingress is still reachable and is accepted here.
    if not module.endpoints:
        raise ModuleError(
            "There are no function providers defined. Add an endpoint document, e.g.\n"
            "  kind: io.statefun.endpoints.v2/http\n"
            "  spec:\n    functions: example/*\n"
            "    urlPathTemplate: http://localhost:8000/statefun",
            file=", ".join(module.files) or None,
        )
