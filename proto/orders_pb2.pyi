from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderHeader(_message.Message):
    __slots__ = ("order_id", "customer_id", "line_count", "card_number", "currency", "created_at_ms")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    line_count: int
    card_number: str
    currency: str
    created_at_ms: int
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., line_count: _Optional[int] = ..., card_number: _Optional[str] = ..., currency: _Optional[str] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("order_id", "line_no", "sku", "quantity", "unit_price_cents")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_NO_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_CENTS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    line_no: int
    sku: str
    quantity: int
    unit_price_cents: int
    def __init__(self, order_id: _Optional[str] = ..., line_no: _Optional[int] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price_cents: _Optional[int] = ...) -> None: ...

class CompletedOrder(_message.Message):
    __slots__ = ("header", "lines", "total_cents", "first_event_at_ms", "completed_at_ms")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CENTS_FIELD_NUMBER: _ClassVar[int]
    FIRST_EVENT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    header: OrderHeader
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    total_cents: int
    first_event_at_ms: int
    completed_at_ms: int
    def __init__(self, header: _Optional[_Union[OrderHeader, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., total_cents: _Optional[int] = ..., first_event_at_ms: _Optional[int] = ..., completed_at_ms: _Optional[int] = ...) -> None: ...

class IncompleteOrderAlert(_message.Message):
    __slots__ = ("order_id", "header_received", "expected_lines", "received_lines", "missing_lines", "first_event_at_ms", "deadline_ms", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    HEADER_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LINES_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_LINES_FIELD_NUMBER: _ClassVar[int]
    MISSING_LINES_FIELD_NUMBER: _ClassVar[int]
    FIRST_EVENT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    header_received: bool
    expected_lines: int
    received_lines: _containers.RepeatedScalarFieldContainer[int]
    missing_lines: _containers.RepeatedScalarFieldContainer[int]
    first_event_at_ms: int
    deadline_ms: int
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., header_received: bool = ..., expected_lines: _Optional[int] = ..., received_lines: _Optional[_Iterable[int]] = ..., missing_lines: _Optional[_Iterable[int]] = ..., first_event_at_ms: _Optional[int] = ..., deadline_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class OrderDeadline(_message.Message):
    __slots__ = ("order_id", "first_event_at_ms")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_EVENT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    first_event_at_ms: int
    def __init__(self, order_id: _Optional[str] = ..., first_event_at_ms: _Optional[int] = ...) -> None: ...

class IgnoredOrderEvent(_message.Message):
    __slots__ = ("order_id", "typename", "reason", "outcome")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPENAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    typename: str
    reason: str
    outcome: str
    def __init__(self, order_id: _Optional[str] = ..., typename: _Optional[str] = ..., reason: _Optional[str] = ..., outcome: _Optional[str] = ...) -> None: ...
