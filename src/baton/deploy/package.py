"""Build the Lambda deployment zip: sources, baton, and Linux wheels for the target platform.

Dependencies are installed with `uv pip install --target` for the Lambda runtime's platform
(manylinux, the chosen architecture and Python version, wheels only), with the project's
overrides (protobuf 6, whose upb backend the StateFun SDK's protobuf<4 pin would exclude).
uv's cache makes repeated builds fast. The zip is reproducible: entries sorted, timestamps
fixed, permissions normalised, no bytecode, so an unchanged project gives the same CodeSha256.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from baton.deploy.config import LambdaSettings
from baton.deploy.errors import DeployError

DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped, uploaded in the API call itself
UNZIPPED_LIMIT = 250 * 1024 * 1024  # the function's code (and layers) unzipped
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ELF_MACHINES = {62: "x86_64", 183: "arm64"}

# Lambda's Python runtimes ship boto3; baton never copies it (or its dependencies) into the zip.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
_SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".pytest_cache",
     ".mypy_cache", ".ruff_cache", ".idea", ".vscode", "node_modules"}
)
_SKIP_SUFFIXES = (".pyc", ".pyo")
_SKIP_NAMES = frozenset({".DS_Store"})

Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Package:
    """A built deployment zip."""

    path: Path
    sha256: str  # base64 of the SHA-256 digest: what Lambda reports as CodeSha256
    size: int  # zipped bytes
    unzipped_size: int
    entries: tuple[str, ...]
    distributions: tuple[str, ...]  # installed `name==version`, sorted
    handler_check: str  # how the handler path was checked

    @property
    def megabytes(self) -> str:
        return f"{self.size / 1024 / 1024:.1f} MB"


def python_platform(architecture: str, python: str) -> str:
    """uv's `--python-platform` for a Lambda runtime: AL2 (glibc 2.26) up to 3.11, then AL2023."""
    machine = {"x86_64": "x86_64", "arm64": "aarch64"}[architecture]
    minor = int(python.split(".")[1])
    return f"{machine}-manylinux_{'2_34' if minor >= 12 else '2_17'}"


def find_uv() -> list[str]:
    """The command that runs uv: $UV (set by `uv run`), `uv` on PATH, or the uv Python package."""
    for candidate in (os.environ.get("UV"), shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            return [candidate]
    try:
        from uv import find_uv_bin

        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        pass
    raise DeployError(
        "uv is needed to download Linux wheels for the Lambda runtime, and it is not installed",
        "install it (`pip install uv`, or see https://docs.astral.sh/uv/) and run again",
    )


def build_package(settings: LambdaSettings, out: Path, report: Report = lambda _: None,
                  work_dir: Path | None = None) -> Package:
    """Build the zip for `settings` at `out`; raise DeployError with a fix for any problem."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="baton-lambda-", dir=work_dir) as tmp:
        stage = Path(tmp) / "package"
        stage.mkdir()
        requirements = [*settings.base_requirements, *settings.requirements]
        if settings.include_baton:
            extra = baton_handler_requirements()
            if extra:
                report(f"baton.serve imports {', '.join(extra)}: adding them")
            requirements += extra
        report(f"installing {', '.join(requirements)} for "
               f"{python_platform(settings.architecture, settings.python)}, "
               f"Python {settings.python}")
        install_dependencies(settings, requirements, stage, Path(tmp))
        distributions = installed_distributions(stage)
        for unwanted in ("bin", ".lock"):
            path = stage / unwanted
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        files = dict(_walk(stage))
        roots = [(_baton_package_dir(), "baton (this project's runtime package)")] \
            if settings.include_baton else []
        roots += [(source, str(source)) for source in settings.sources]
        for source, label in roots:
            add_source(files, source, label)
            link = stage / source.name  # the package's layout, for the handler import check
            if not link.exists():
                link.symlink_to(source, target_is_directory=source.is_dir())
        unzipped = sum(path.stat().st_size for path in files.values())
        check_unzipped_size(files, unzipped)
        check_architecture(files, settings.architecture)
        handler_check = check_handler(settings, stage, files)
        report(f"handler {settings.handler}: {handler_check}")
        write_zip(files, out)
    data_hash = hashlib.sha256()
    with out.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            data_hash.update(chunk)
    return Package(
        path=out,
        sha256=base64.b64encode(data_hash.digest()).decode(),
        size=out.stat().st_size,
        unzipped_size=unzipped,
        entries=tuple(sorted(files)),
        distributions=distributions,
        handler_check=handler_check,
    )


def install_dependencies(
    settings: LambdaSettings, requirements: list[str], target: Path, tmp: Path
) -> None:
    overrides = tmp / "overrides.txt"
    overrides.write_text("".join(f"{line}\n" for line in settings.overrides))
    command = [
        *find_uv(), "pip", "install", "--quiet",
        "--target", str(target),
        "--python-platform", python_platform(settings.architecture, settings.python),
        "--python-version", settings.python,
        "--only-binary", ":all:",
        "--no-compile",
        "--override", str(overrides),
        *requirements,
    ]
    try:
        result = subprocess.run(command, cwd=settings.project_dir, capture_output=True,
                                text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        raise DeployError("downloading the dependencies took over 15 minutes") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise DeployError(
            f"cannot install the dependencies for {settings.runtime} on "
            f"{settings.architecture}:\n{detail}",
            "every dependency needs a wheel for manylinux on this architecture and Python "
            "version (no source builds): pin a version that has one, or change `requirements`",
        )


def installed_distributions(target: Path) -> tuple[str, ...]:
    found = []
    for info in target.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        found.append(f"{name}=={version}")
    return tuple(sorted(found, key=str.lower))


@functools.cache
def baton_handler_requirements() -> tuple[str, ...]:
    """Distributions that importing baton's Lambda handler pulls in, pinned to this machine's.

    Found by importing `baton.serve` (and `baton.serve.aws_lambda`) in a fresh interpreter,
    so whatever baton.serve needs at import time is shipped, and nothing else.
    """
    code = r"""
import json, sys
from importlib import metadata
before = set(sys.modules)
import baton.serve
try:
    import baton.serve.aws_lambda
except ModuleNotFoundError as error:
    if error.name != "baton.serve.aws_lambda":
        raise
tops = {name.split(".")[0] for name in set(sys.modules) - before}
owners = metadata.packages_distributions()
print(json.dumps(sorted({d for top in tops for d in owners.get(top, [])})))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        raise DeployError(f"cannot import baton.serve here:\n{result.stderr.strip()}")
    from importlib import metadata

    skip = RUNTIME_PROVIDED | {"baton", "apache-flink-statefun", "flink-statefun", "protobuf"}
    pinned = []
    for dist in json.loads(result.stdout.strip().splitlines()[-1]):
        if _canonical(dist) in {_canonical(s) for s in skip}:
            continue
        pinned.append(f"{dist}=={metadata.version(dist)}")
    return tuple(sorted(pinned, key=str.lower))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _baton_package_dir() -> Path:
    import baton

    return Path(baton.__file__).resolve().parent


def add_source(files: dict[str, Path], source: Path, label: str) -> None:
    """Add a package directory (under its name) or a module file to the zip's entries."""
    name = source.stem if source.is_file() else source.name
    taken = {arcname.split("/", 1)[0] for arcname in files}
    if name in taken or f"{name}.py" in taken:
        raise DeployError(
            f"{label}: `{name}` is already in the package (a dependency or another source "
            "installs it)",
            "rename your package or module so it does not shadow a dependency",
        )
    if source.is_file():
        files[source.name] = source
        return
    for arcname, path in _walk(source):
        files[f"{name}/{arcname}"] = path


def _walk(stage: Path) -> Iterator[tuple[str, Path]]:
    for root, dirs, files in os.walk(stage):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in files:
            if name in _SKIP_NAMES or name.endswith(_SKIP_SUFFIXES):
                continue
            path = Path(root) / name
            if path.is_symlink() and not path.exists():
                continue
            yield path.relative_to(stage).as_posix(), path


def check_unzipped_size(files: dict[str, Path], total: int) -> None:
    if total <= UNZIPPED_LIMIT:
        return
    sizes: dict[str, int] = {}
    for arcname, path in files.items():
        top = arcname.split("/", 1)[0]
        sizes[top] = sizes.get(top, 0) + path.stat().st_size
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    listing = ", ".join(f"{name} {size / 1024 / 1024:.0f} MB" for name, size in largest)
    raise DeployError(
        f"the package is {total / 1024 / 1024:.0f} MB unzipped, over Lambda's 250 MB limit "
        f"for a function's code (largest: {listing})",
        "trim dependencies (drop unused packages; boto3 is already in the Lambda runtime), "
        "keep data files out of the source directory, or ship a container image instead",
    )


def check_architecture(files: dict[str, Path], architecture: str) -> None:
    """Every native library must be built for the function's architecture."""
    for arcname, path in files.items():
        with path.open("rb") as handle:
            header = handle.read(20)
        if len(header) < 20 or header[:4] != b"\x7fELF":
            continue
        order: Literal["little", "big"] = "little" if header[5] == 1 else "big"
        machine = ELF_MACHINES.get(int.from_bytes(header[18:20], order), "another machine")
        if machine != architecture:
            raise DeployError(
                f"{arcname} is a native library for {machine}, but the function runs on "
                f"{architecture}",
                "remove host-built binaries from the source directory, or pick the matching "
                "--architecture",
            )


def check_handler(settings: LambdaSettings, stage: Path, files: dict[str, Path]) -> str:
    """Check the handler path: its module is in the package and defines the attribute.

    When this machine can run the target (Linux, same architecture, that Python found),
    the handler is also imported from the package alone, without this machine's packages.
    """
    module, attr = settings.handler_module, settings.handler_attr
    relative = module.replace(".", "/")
    source = files.get(f"{relative}.py") or files.get(f"{relative}/__init__.py")
    if source is None:
        tops = sorted({name.split("/", 1)[0].removesuffix(".py") for name in files
                       if not name.split("/", 1)[0].endswith((".dist-info", ".data"))})
        raise DeployError(
            f"handler {settings.handler}: module `{module}` is not in the package "
            f"(top-level names: {', '.join(tops)})",
            "the handler is `<module>.<attribute>` relative to the zip's root; each source "
            "directory lands there under its own name",
        )
    try:
        tree = ast.parse(source.read_bytes(), filename=str(source))
    except SyntaxError as error:
        raise DeployError(f"handler module {module}: syntax error: {error}") from None
    if not _defines(tree, attr):
        raise DeployError(
            f"handler {settings.handler}: `{attr}` is not defined at the top of {module}",
            f"define it, e.g. `{attr} = lambda_handler(functions)` "
            "(from baton.serve import lambda_handler)",
        )
    own = {source.stem if source.is_file() else source.name for source in settings.sources}
    lacking = _missing_imports(module, files, own)
    if lacking:
        names = ", ".join(f"`{name}` (in {where})" for name, where in sorted(lacking.items()))
        raise DeployError(
            f"handler {settings.handler}: the package lacks modules its code imports: {names}",
            "add the distributions that provide them to `requirements` in [tool.baton.lambda] "
            "(or --requirement), or the directories to `source`",
        )
    interpreter = _runnable_interpreter(settings)
    if interpreter is None:
        return ("found in the package with every module it imports (not imported: this machine "
                "cannot run the target)")
    code = (
        "import importlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "handler = getattr(importlib.import_module(sys.argv[2]), sys.argv[3])\n"
        "assert callable(handler), f'{sys.argv[3]} is not callable'\n"
    )
    result = subprocess.run(
        [interpreter, "-I", "-S", "-B", "-c", code, str(stage), module, attr],
        capture_output=True, text=True, timeout=120, cwd=stage, check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        hint = "fix the import error"
        missing = re.search(r"No module named '([^']+)'", last)
        if missing:
            hint = (f"add the distribution that provides `{missing.group(1)}` to "
                    "`requirements` in [tool.baton.lambda] (or --requirement)")
        raise DeployError(
            f"handler {settings.handler} does not import from the package alone: {last}", hint
        )
    return "imported from the package"


# What the Lambda Python runtime provides, by import name (RUNTIME_PROVIDED are distributions).
_RUNTIME_IMPORTS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six", "awslambdaric"}
)


def _missing_imports(handler_module: str, files: dict[str, Path], own: set[str]) -> dict[str, str]:
    """{top-level name: importing module} for module-level imports the zip cannot satisfy.

    Follows the handler's imports through the project's own modules (top-level names `own`;
    installed distributions bring their own dependencies), statically: this machine may not
    be able to run the target. Imports inside functions or `try` blocks are optional
    by intent and not followed; the standard library and the Lambda runtime's packages count
    as present.
    """
    tops = {name.split("/", 1)[0].split(".", 1)[0] for name in files}  # `x.py`, `x.cpython-….so`
    missing: dict[str, str] = {}
    seen: set[str] = set()
    queue = [handler_module]
    while queue:
        module = queue.pop()
        if module in seen:
            continue
        seen.add(module)
        relative = module.replace(".", "/")
        source = files.get(f"{relative}.py") or files.get(f"{relative}/__init__.py")
        if source is None or module.split(".", 1)[0] not in own | {handler_module.split(".", 1)[0]}:
            continue
        try:
            tree = ast.parse(source.read_bytes(), filename=str(source))
        except SyntaxError:
            continue  # a dependency's file this Python cannot parse: not ours to judge
        package = module if source.name == "__init__.py" else module.rpartition(".")[0]
        for imported in _module_level_imports(tree, package):
            top = imported.split(".", 1)[0]
            if top in tops:
                queue.append(imported)
            elif top not in sys.stdlib_module_names and top not in _RUNTIME_IMPORTS:
                missing.setdefault(top, module)
    return missing


def _module_level_imports(tree: ast.Module, package: str) -> list[str]:
    names: list[str] = []
    parts = package.split(".") if package else []
    for node in tree.body:  # not nested: imports in functions and try blocks may be optional
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module != "__future__":
                source = node.module
            else:
                continue
            # `from pkg import mod` may name a module: followed when the package holds one.
            names.extend([source, *(f"{source}.{a.name}".lstrip(".") for a in node.names)])
    return names


def _defines(tree: ast.Module, attr: str) -> bool:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == attr:
                return True
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if any(isinstance(n, ast.Name) and n.id == attr for n in ast.walk(target)):
                    return True
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            if isinstance(node.target, ast.Name) and node.target.id == attr:
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == attr:
                    return True
        elif isinstance(node, (ast.If, ast.Try)):
            inner = ast.Module(body=[*node.body, *getattr(node, "orelse", []),
                                     *[s for h in getattr(node, "handlers", []) for s in h.body]],
                               type_ignores=[])
            if _defines(inner, attr):
                return True
    return False


def _runnable_interpreter(settings: LambdaSettings) -> str | None:
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
    if sys.platform != "linux" or machine.get(platform.machine().lower()) != settings.architecture:
        return None
    if f"{sys.version_info.major}.{sys.version_info.minor}" == settings.python:
        return sys.executable
    try:
        result = subprocess.run(
            [*find_uv(), "python", "find", "--no-python-downloads", settings.python],
            capture_output=True, text=True, timeout=60, check=False,
        )
    except (DeployError, subprocess.TimeoutExpired):
        return None
    path = result.stdout.strip()
    return path if result.returncode == 0 and path else None


def write_zip(files: dict[str, Path], out: Path) -> None:
    """A reproducible zip: sorted entries, fixed timestamps and permissions, deflated."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname in sorted(files):
            path = files[arcname]
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
            info.create_system = 3  # Unix, so the permission bits below are honoured
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
    partial.replace(out)
