"""Python values ↔ the typed values functions exchange (typename + bytes), for `Harness.send`."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf.message import Message as ProtobufMessage
from statefun import Type

from baton.runtime.typed_values import encode_builtin, is_builtin

_BUILTIN_OF = {bool: "io.statefun.types/bool", int: "io.statefun.types/int",
               float: "io.statefun.types/double", str: "io.statefun.types/string"}


class UnknownValueType(TypeError):
    """`send` cannot tell which type a value has; the message says what to pass."""


def typed_value(value: Any, type: Type | str | None = None) -> tuple[str, bytes | None]:
    """(typename, bytes) for a message value.

    - `type` an SDK `Type` (`IntType`, `make_json_type(...)`, ...): its serializer;
    - `type` a typename: bytes as they are, a built-in (`io.statefun.types/int`) encoded, else
      the value as JSON (`"example/GreetRequest"` + a dict);
    - no `type`: a protobuf message as `type.googleapis.com/<full name>`; bool, int, float, str
      as the built-in bool, int, double, string (the SDK's BoolType, IntType, ...).
    """
    if isinstance(type, Type):
        return type.typename, type.serializer().serialize(value)
    if type is not None:
        if value is None or isinstance(value, bytes):
            return type, value
        if is_builtin(type):
            return type, encode_builtin(type, value)
        return type, json.dumps(value).encode()
    if isinstance(value, ProtobufMessage):
        return f"type.googleapis.com/{value.DESCRIPTOR.full_name}", value.SerializeToString()
    builtin = _BUILTIN_OF.get(value.__class__)
    if builtin is not None:
        return builtin, encode_builtin(builtin, value)
    raise UnknownValueType(
        f"cannot tell the type of a {value.__class__.__name__} message; pass type= an SDK Type "
        "(e.g. make_json_type('example/GreetRequest')) or a typename such as 'example/GreetRequest' "
        "(the value is then sent as JSON)"
    )
