"""Inline module.yaml for tests: dedented text, and the error loading it raises."""

from __future__ import annotations

import textwrap

import pytest

from baton.module import ModuleError, load_module_text


def yaml(text: str) -> str:
    """Inline YAML: dedented, so line 1 is the first line after the opening quotes."""
    return textwrap.dedent(text).lstrip("\n")


def error_of(text: str, file: str = "module.yaml", **kwargs) -> ModuleError:
    """The ModuleError loading `text` raises (fails the test if it loads)."""
    with pytest.raises(ModuleError) as info:
        load_module_text(yaml(text), file, **kwargs)
    return info.value
