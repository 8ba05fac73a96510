"""Resolve `MODULE:ATTR` references (what `baton serve` and `baton lambda local` take)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from statefun import StatefulFunctions


class TargetError(ValueError):
    """A `MODULE:ATTR` reference that does not resolve; the message says why."""


def split_target(target: str, what: str = "MODULE:ATTR") -> tuple[str, str]:
    """`"pkg.mod:attr"` -> `("pkg.mod", "attr")` (raises TargetError on a malformed reference)."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr or ":" in attr:
        raise TargetError(f"expected {what} (e.g. app.functions:functions), got {target!r}")
    if any(not part.isidentifier() for part in module.split(".")):
        raise TargetError(f"{module!r} in {target!r} is not a Python module name")
    if any(not part.isidentifier() for part in attr.split(".")):
        raise TargetError(f"{attr!r} in {target!r} is not a Python attribute name")
    return module, attr


def load_target(target: str) -> Any:
    """Import MODULE (the current directory comes first on sys.path) and return ATTR."""
    module_name, attr = split_target(target)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
            raise TargetError(
                f"module {module_name!r} not found (searched the current directory "
                f"{cwd} and the Python path)"
            ) from None
        raise TargetError(f"importing {module_name!r} failed: {error}") from error
    except Exception as error:
        raise TargetError(
            f"importing {module_name!r} failed: {type(error).__name__}: {error}"
        ) from error
    value: Any = module
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from None
    return value


def load_functions(target: str) -> StatefulFunctions:
    """The `statefun.StatefulFunctions` that MODULE:ATTR names."""
    value = load_target(target)
    if not isinstance(value, StatefulFunctions):
        raise TargetError(
            f"{target} is a {type(value).__module__}.{type(value).__qualname__}, "
            "not a statefun.StatefulFunctions"
        )
    return value


def function_types(functions: StatefulFunctions) -> list[str]:
    """The function types registered on `functions` (sorted)."""
    registered = getattr(functions, "_functions", None)
    return sorted(registered) if isinstance(registered, dict) else []
