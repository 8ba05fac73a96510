"""Readable views of TypedValues: the built-in `io.statefun.types/*` decoded, JSON shown as JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf.message import DecodeError
from statefun import types_pb2

BUILTINS = {
    "io.statefun.types/bool": types_pb2.BooleanWrapper,
    "io.statefun.types/int": types_pb2.IntWrapper,
    "io.statefun.types/long": types_pb2.LongWrapper,
    "io.statefun.types/float": types_pb2.FloatWrapper,
    "io.statefun.types/double": types_pb2.DoubleWrapper,
    "io.statefun.types/string": types_pb2.StringWrapper,
}


def describe(typename: str, value: bytes | None) -> dict[str, Any]:
    """A JSON-able description of a typed value: typename plus a decoded or base64 value."""
    out: dict[str, Any] = {"typename": typename}
    if value is None:
        out["value"] = None
        return out
    wrapper = BUILTINS.get(typename)
    if wrapper is not None:
        try:
            out["value"] = wrapper.FromString(value).value
            return out
        except DecodeError:
            pass  # e.g. raw UTF-8 tagged as string by an ingress: fall through to the raw view
    try:
        out["json"] = json.loads(value)
        return out
    except ValueError:
        pass
    out["base64"] = base64.b64encode(value).decode()
    return out


def encode_builtin(typename: str, value: Any) -> bytes:
    """Encode a Python value as a built-in StateFun type (e.g. for `baton send --type`)."""
    wrapper = BUILTINS[typename]
    return wrapper(value=value).SerializeToString()


def is_builtin(typename: str) -> bool:
    return typename in BUILTINS


def decode(typename: str, value: bytes | None) -> Any:
    """A typed value as a Python value: built-ins decoded, JSON parsed, anything else raw bytes."""
    if value is None:
        return None
    view = describe(typename, value)
    if "base64" in view:
        return value
    return view["json"] if "json" in view else view["value"]
