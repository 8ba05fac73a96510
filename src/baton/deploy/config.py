"""Settings of `baton deploy lambda`: command-line flags over `[tool.baton.lambda]` over defaults.

The section lives in the project's pyproject.toml (the nearest one upward from the working
directory, or `--project DIR`):

    [tool.baton.lambda]
    name = "orders"                     # Lambda function name (default: [project].name)
    region = "eu-west-1"                # default: the AWS chain's region (AWS_REGION, profile)
    handler = "orders.app.handler"      # module.attr, e.g. `handler = lambda_handler(functions)`
    functions = "orders/*"              # the StateFun functions it serves (for module.yaml)
    source = "orders"                   # package dir(s) or module file(s) to ship; default:
                                        #   the handler's top-level package
    memory = 512                        # MB, 128..10240
    timeout = 60                        # seconds, 1..900
    architecture = "x86_64"             # or "arm64"
    python = "3.12"                     # Lambda runtime python3.X
    role = "arn:aws:iam::123456789012:role/orders"  # default: baton creates `<name>-baton`
    alias = "live"                      # the alias the URL and the endpoint point at
    auth = "AWS_IAM"                    # Function URL auth; "NONE" makes it public
    invoke = "url"                      # endpoint document: "url" (v2 http) or "direct"
    requirements = ["requests==2.32.3"] # more dependencies, beside the StateFun SDK + protobuf
    overrides = ["protobuf>=6.30,<7"]   # default: [tool.uv] override-dependencies
    s3-bucket = "my-artifacts"          # upload the zip through S3 (needed above 50 MB)
    include-baton = true                # ship baton's own package (for baton.serve handlers)

Credentials never come from here or from flags: only from the standard AWS chain.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from baton.deploy.errors import DeployError
from baton.diagnostics import did_you_mean

SECTION = "[tool.baton.lambda]"
ARCHITECTURES = ("x86_64", "arm64")
AUTH_TYPES = ("AWS_IAM", "NONE")
INVOKE_MODES = ("url", "direct")
DEFAULT_PROTOBUF = "protobuf>=6.30,<7"
STATEFUN_DIST = "flink-statefun"  # the SDK's `statefun` module, built for protobuf 6

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALIAS = re.compile(r"^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$")
_HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_PYTHON = re.compile(r"^3\.(\d+)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class LambdaSettings:
    """Everything one deploy needs, validated."""

    name: str
    handler: str
    functions: str
    sources: tuple[Path, ...]
    project_dir: Path
    region: str | None = None  # None: the AWS chain's default region
    memory: int = 512
    timeout: int = 60
    architecture: str = "x86_64"
    python: str = "3.12"
    role: str | None = None
    alias: str = "live"
    auth: str = "AWS_IAM"
    invoke: str = "url"
    requirements: tuple[str, ...] = ()
    overrides: tuple[str, ...] = (DEFAULT_PROTOBUF,)
    s3_bucket: str | None = None
    include_baton: bool = True
    origin: dict[str, str] = field(default_factory=dict)  # setting → "--flag" or section key

    @property
    def runtime(self) -> str:
        return f"python{self.python}"

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def handler_attr(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def base_requirements(self) -> tuple[str, ...]:
        """The StateFun SDK (the version installed here) and protobuf (its version: overrides)."""
        try:
            statefun = f"{STATEFUN_DIST}=={metadata.version(STATEFUN_DIST)}"
        except metadata.PackageNotFoundError:
            statefun = f"{STATEFUN_DIST}==3.5.0"
        return (statefun, "protobuf")


# Keys of the section → (attribute, type); kebab-case, snake_case accepted too.
_KEYS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "name": ("name", str),
    "region": ("region", str),
    "handler": ("handler", str),
    "functions": ("functions", str),
    "source": ("sources", (str, list)),
    "memory": ("memory", int),
    "timeout": ("timeout", int),
    "architecture": ("architecture", str),
    "python": ("python", (str, float)),
    "role": ("role", str),
    "alias": ("alias", str),
    "auth": ("auth", str),
    "invoke": ("invoke", str),
    "requirements": ("requirements", list),
    "overrides": ("overrides", list),
    "s3-bucket": ("s3_bucket", str),
    "include-baton": ("include_baton", bool),
}


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise DeployError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise DeployError(f"cannot read {path}: {error.strerror}") from None


def load_settings(
    flags: dict[str, Any], project: Path | None = None, cwd: Path | None = None,
    require_functions: bool = True,
) -> LambdaSettings:
    """Merge flags (None = not given) over the pyproject section; validate everything.

    `flags` uses the section's key names (`source` is a list of paths relative to `cwd`).
    """
    cwd = (cwd or Path.cwd()).resolve()
    if project is not None:
        project_dir = (cwd / project).resolve()
        if not project_dir.is_dir():
            raise DeployError(f"--project {project}: no such directory")
        candidate = project_dir / "pyproject.toml"
        pyproject: Path | None = candidate if candidate.is_file() else None
    else:
        pyproject = find_pyproject(cwd)
        project_dir = pyproject.parent if pyproject else cwd
    data = read_pyproject(pyproject) if pyproject else {}
    where = f"{pyproject.name if pyproject else 'pyproject.toml'} {SECTION}"
    section = data.get("tool", {}).get("baton", {}).get("lambda", {})
    if not isinstance(section, dict):
        raise DeployError(f"{where} must be a table")

    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for raw_key, value in section.items():
        key = raw_key.replace("_", "-")
        if key not in _KEYS:
            hint = did_you_mean(key, _KEYS, any_case=False)
            raise DeployError(
                f"{where}: unknown setting `{raw_key}`.{hint}",
                f"known settings: {', '.join(_KEYS)}",
            )
        attr, kind = _KEYS[key]
        if isinstance(value, bool) and kind is not bool:
            raise DeployError(f"{where} {key}: expected {_type_name(kind)}, found {value!r}")
        if not isinstance(value, kind):
            raise DeployError(f"{where} {key}: expected {_type_name(kind)}, found {value!r}")
        if attr == "sources":
            items: list[Any] = [value] if isinstance(value, str) else list(cast(list[Any], value))
            value = [_path_item(where, key, item, project_dir) for item in items]
        elif attr in ("requirements", "overrides"):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise DeployError(f"{where} {key}: expected a list of strings, found {value!r}")
        elif attr == "python":
            value = str(value)
        values[attr] = value
        origin[attr] = f"{where} {key}"

    for key, value in flags.items():
        if value is None or value == () or value == []:
            continue
        attr = _KEYS[key][0] if key in _KEYS else key
        if attr == "sources":
            value = [(cwd / item).resolve() for item in value]
        values[attr] = value
        origin[attr] = f"--{key}"

    if "name" not in values:
        project_name = data.get("project", {}).get("name")
        if isinstance(project_name, str):
            values["name"] = re.sub(r"[^A-Za-z0-9_-]", "-", project_name)[:64]
            origin["name"] = "[project] name"
    for required, example in (("name", "orders"), ("handler", "orders.app.handler"),
                              ("functions", "orders/*")):
        if required == "functions" and not require_functions:
            values.setdefault("functions", "")
            continue
        if required not in values:
            raise DeployError(
                f"no {required} given",
                f"pass --{required} {example!r} or set `{required} = \"{example}\"` in {SECTION}"
                f" of {pyproject or project_dir / 'pyproject.toml'}",
            )
    return _validate(values, origin, project_dir, data)


def _path_item(where: str, key: str, item: Any, base: Path) -> Path:
    if not isinstance(item, str):
        raise DeployError(f"{where} {key}: expected paths (strings), found {item!r}")
    return (base / item).resolve()


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
             float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _validate(
    values: dict[str, Any], origin: dict[str, str], project_dir: Path, data: dict[str, Any]
) -> LambdaSettings:
    def fail(attr: str, message: str, hint: str | None = None) -> DeployError:
        return DeployError(f"{origin.get(attr, attr)}: {message}", hint)

    name = values["name"]
    if not _NAME.match(name):
        raise fail("name", f"{name!r} is not a valid Lambda function name",
                    "use 1-64 letters, digits, hyphens or underscores")
    handler = values["handler"]
    if not _HANDLER.match(handler):
        raise fail("handler", f"{handler!r} is not `module.attribute`",
                    "e.g. orders.app.handler for `handler = ...` in orders/app.py")
    functions = values["functions"]
    if functions or "functions" in origin:
        _check_functions(functions, fail)
    memory = values.get("memory", 512)
    if not isinstance(memory, int) or not 128 <= memory <= 10240:
        raise fail("memory", f"{memory!r} MB is outside Lambda's 128..10240 MB")
    timeout = values.get("timeout", 60)
    if not isinstance(timeout, int) or not 1 <= timeout <= 900:
        raise fail("timeout", f"{timeout!r} s is outside Lambda's 1..900 seconds")
    architecture = values.get("architecture", "x86_64")
    if architecture == "aarch64":
        architecture = "arm64"
    if architecture not in ARCHITECTURES:
        raise fail("architecture", f"{architecture!r} is not a Lambda architecture",
                    f"use one of {', '.join(ARCHITECTURES)}")
    python = str(values.get("python", "3.12")).removeprefix("python")
    match = _PYTHON.match(python)
    runtimes = lambda_python_runtimes()
    if not match or int(match.group(1)) < 9 or f"python{python}" not in runtimes:
        raise fail("python", f"{python!r} is not a Python version Lambda runs",
                    f"use one of {', '.join(r.removeprefix('python') for r in runtimes)}")
    auth = str(values.get("auth", "AWS_IAM")).upper()
    if auth not in AUTH_TYPES:
        raise fail("auth", f"{auth!r} is not a Function URL auth type",
                    f"use one of {', '.join(AUTH_TYPES)}")
    invoke = str(values.get("invoke", "url")).lower()
    if invoke not in INVOKE_MODES:
        raise fail("invoke", f"{invoke!r} is not an invoke mode",
                    f"use one of {', '.join(INVOKE_MODES)}")
    alias = values.get("alias", "live")
    if not _ALIAS.match(alias):
        raise fail("alias", f"{alias!r} is not a valid alias name",
                    "use letters, digits, hyphens or underscores (not only digits)")
    bucket = values.get("s3_bucket")
    if bucket is not None and not _BUCKET.match(bucket):
        raise fail("s3_bucket", f"{bucket!r} is not a valid S3 bucket name")
    role = values.get("role")
    if role is not None and not role:
        raise fail("role", "empty role")

    sources = tuple(values.get("sources") or ())
    if not sources:
        sources = (_infer_source(handler, project_dir, origin),)
        origin["sources"] = "the handler's package"
    for source in sources:
        if not source.exists():
            raise fail("sources", f"{source} does not exist",
                       "point `source` at your functions' package directory or module file")
        if source.is_file() and source.suffix != ".py":
            raise fail("sources", f"{source} is neither a directory nor a .py module")
    names = [s.stem if s.is_file() else s.name for s in sources]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise fail("sources", f"two sources would both be `{min(duplicates)}` in the zip")

    overrides = tuple(values.get("overrides") or _project_overrides(data))
    if not any(_requirement_name(o) == "protobuf" for o in overrides):
        overrides = (*overrides, DEFAULT_PROTOBUF)

    return LambdaSettings(
        name=name,
        handler=handler,
        functions=functions,
        sources=sources,
        project_dir=project_dir,
        region=values.get("region"),
        memory=memory,
        timeout=timeout,
        architecture=architecture,
        python=python,
        role=role,
        alias=alias,
        auth=auth,
        invoke=invoke,
        requirements=tuple(values.get("requirements") or ()),
        overrides=overrides,
        s3_bucket=bucket,
        include_baton=bool(values.get("include_baton", True)),
        origin=origin,
    )


def _check_functions(functions: str, fail) -> None:
    parts = functions.split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise fail("functions", f"{functions!r} is not a function type pattern",
                    "write `<namespace>/*` for a namespace or `<namespace>/<name>` for one type")
    if "*" in parts[0] or ("*" in parts[1] and parts[1] != "*"):
        raise fail("functions", f"{functions!r}: only a whole `*` name is a wildcard",
                    "write e.g. orders/*")


def _infer_source(handler: str, project_dir: Path, origin: dict[str, str]) -> Path:
    top = handler.split(".", 1)[0]
    for base in (project_dir, project_dir / "src"):
        for candidate in (base / top, base / f"{top}.py"):
            if candidate.exists():
                return candidate.resolve()
    raise DeployError(
        f"cannot find the handler's package `{top}` in {project_dir} or {project_dir / 'src'}",
        f"pass --source PATH or set `source = \"path/to/{top}\"` in {SECTION}",
    )


def _project_overrides(data: dict[str, Any]) -> tuple[str, ...]:
    found = data.get("tool", {}).get("uv", {}).get("override-dependencies", [])
    return tuple(item for item in found if isinstance(item, str))


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(@]", requirement.strip(), maxsplit=1)[0].lower()


def lambda_python_runtimes() -> tuple[str, ...]:
    """The python3.X runtimes of the installed botocore's Lambda model (newest botocore knows)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    enum: list[str] = getattr(model.shape_for("Runtime"), "enum", [])
    return tuple(r for r in enum if re.fullmatch(r"python3\.\d+", r)
                 and int(r.split(".")[1]) >= 9)


def host_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"
