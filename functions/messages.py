"""The example's message types: the protobuf messages of proto/orders.proto in the SDK's type system.

Every order message is accepted in two encodings, both through the playground ingress:

- binary, as any StateFun SDK sends it: typename `type.googleapis.com/orders.OrderHeader`
  (`Content-Type: application/vnd.type.googleapis.com/orders.OrderHeader`), the serialized proto;
- JSON, as a person or a CDC tool sends it: typename `orders/OrderHeader`
  (`Content-Type: application/vnd.orders/OrderHeader`), the proto3 JSON mapping of the message.
"""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message as ProtoMessage
from statefun import make_json_type, make_protobuf_type

from proto.orders_pb2 import OrderDeadline, OrderHeader, OrderLine

ORDER_HEADER = make_protobuf_type(OrderHeader)
ORDER_LINE = make_protobuf_type(OrderLine)
ORDER_DEADLINE = make_protobuf_type(OrderDeadline)

# JSON twins of the ingress messages: `orders/<message name>`.
JSON_NAMESPACE = "orders"
ORDER_HEADER_JSON = f"{JSON_NAMESPACE}/OrderHeader"
ORDER_LINE_JSON = f"{JSON_NAMESPACE}/OrderLine"

# What `orders/order` keeps per order while it waits (JSON, so `baton state` shows it as is).
PENDING_ORDER = make_json_type("orders/PendingOrder")
# What `orders/order` sends `orders/fulfillment` to start the workflow (its execution input).
FULFILLMENT_INPUT = make_json_type("orders/FulfillmentInput")
# The playground egress's record type (`{"topic": ..., "payload": ...}`).
EGRESS_RECORD = make_json_type("io.statefun.playground/EgressRecord")

# Playground egress topics (declared in module.yaml).
TOPIC_COMPLETED = "orders-completed"
TOPIC_INCOMPLETE = "orders-incomplete"
TOPIC_IGNORED = "orders-ignored"
TOPIC_FULFILLMENT = "orders-fulfillment"
TOPIC_REJECTED = "orders-rejected"  # order lines dead-lettered by the rules in module.yaml


def binary_typename(cls: type[ProtoMessage]) -> str:
    """`type.googleapis.com/<full name>`: the typename `make_protobuf_type` gives a message."""
    return f"type.googleapis.com/{cls.DESCRIPTOR.full_name}"


def json_typename(cls: type[ProtoMessage]) -> str:
    """`orders/<message name>`: the typename of a message's JSON encoding."""
    return f"{JSON_NAMESPACE}/{cls.DESCRIPTOR.name}"


def to_json(message: ProtoMessage) -> str:
    """A message in the proto3 JSON mapping with the .proto's field names (int64 as strings)."""
    return json_format.MessageToJson(
        message, preserving_proto_field_name=True, indent=None, always_print_fields_with_no_presence=True
    )


def to_dict(message: ProtoMessage) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def from_json(cls: type[ProtoMessage], data: bytes | str) -> ProtoMessage:
    """Parse the proto3 JSON mapping (field names as in the .proto or lowerCamelCase)."""
    return json_format.Parse(data, cls())
