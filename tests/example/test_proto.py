"""proto/orders_pb2.py is what the pinned compiler makes of proto/orders.proto, and it is used."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROTO = ROOT / "proto"
GENERATED = ("orders_pb2.py", "orders_pb2.pyi")
REGENERATE = ("uv run python -m grpc_tools.protoc -Iproto --python_out=proto --pyi_out=proto "
              "proto/orders.proto")


def test_generated_code_is_fresh(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO}", f"--python_out={tmp_path}",
         f"--pyi_out={tmp_path}", str(PROTO / "orders.proto")],
        check=True, capture_output=True,
    )
    for name in GENERATED:
        assert (PROTO / name).read_text() == (tmp_path / name).read_text(), (
            f"proto/{name} is stale: regenerate it with `{REGENERATE}`"
        )


def test_functions_use_the_generated_messages_through_the_sdk_types():
    from functions.messages import ORDER_HEADER, ORDER_LINE, binary_typename, json_typename
    from proto.orders_pb2 import OrderHeader, OrderLine

    assert ORDER_HEADER.typename == "type.googleapis.com/orders.OrderHeader"
    assert ORDER_LINE.typename == binary_typename(OrderLine) == "type.googleapis.com/orders.OrderLine"
    assert json_typename(OrderHeader) == "orders/OrderHeader"
    header = OrderHeader(order_id="o-1", line_count=2)
    serializer = ORDER_HEADER.serializer()
    assert serializer.deserialize(serializer.serialize(header)) == header
