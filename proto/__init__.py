"""The example's message schemas (`orders.proto`) and their generated Python (`orders_pb2.py`).

Regenerate after editing the .proto (a test fails while the committed code is stale):

    uv run python -m grpc_tools.protoc -Iproto --python_out=proto --pyi_out=proto proto/orders.proto
"""
