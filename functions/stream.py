"""A generated stream of order change events, with every path of the example in it.

Each order gets one scenario; the counts are fixed fractions (at least one each), so even a
small stream provokes every path:

| scenario | what is sent | expected outcome |
|---|---|---|
| ok | header + all lines | completed, fulfilled |
| missing-line | header + all lines but one | incomplete-order alert |
| missing-header | lines only | incomplete-order alert |
| declined | card 4000000000000002 | completed, workflow fails with PaymentDeclined |
| fraud | customer `fraud-…` | completed, compensated: FraudSuspected |
| out-of-stock | one SKU `OOS-…` | completed, compensated: OutOfStock |
| zero-quantity | one line with quantity 0 | line dead-lettered (rule positive-quantity), alert |
| bad-sku | one line with a lower-case SKU | line dead-lettered (rule sku-format), alert |

The events are shuffled as change events arrive from CDC: each order's events in random order
(lines before their header), interleaved with the events of the orders around it (within a
window of `WINDOW` events, so an order's events arrive close together, not minutes apart);
each is encoded as JSON or as serialized protobuf at random.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from functions.messages import binary_typename, json_typename, to_json
from functions.tasks import DECLINED_CARDS, FRAUD_PREFIX, OUT_OF_STOCK_PREFIX
from proto.orders_pb2 import OrderHeader, OrderLine

GOOD_CARD = "4242424242424242"
DECLINED_CARD = next(iter(DECLINED_CARDS))
CATALOG = {
    "LAMP-01": 2_900, "DESK-02": 18_900, "CHAIR-03": 9_900, "MUG-04": 1_200,
    "BOOK-05": 2_400, "PEN-06": 350, "RUG-07": 12_500, "CLOCK-08": 4_500,
}

# scenario → share of the orders (at least one order each); "ok" takes the rest.
SHARES = {
    "missing-line": 0.06,
    "missing-header": 0.04,
    "declined": 0.06,
    "fraud": 0.05,
    "out-of-stock": 0.06,
    "zero-quantity": 0.03,
    "bad-sku": 0.03,
}
SCENARIOS = ("ok", *SHARES)
WINDOW = 40  # an order's events are spread over about this many events of the stream
MIN_ORDERS = len(SCENARIOS)


@dataclass(frozen=True, slots=True)
class Expected:
    """What should become of an order: alerted, or completed with a fulfillment outcome."""

    alerted: bool = False
    fulfillment: str | None = None  # see functions.summary.fulfillment_outcome
    dead_lettered: str | None = None  # the rule (module.yaml) that dead-letters one of its lines


EXPECTED = {
    "ok": Expected(fulfillment="fulfilled"),
    "missing-line": Expected(alerted=True),
    "missing-header": Expected(alerted=True),
    "declined": Expected(fulfillment="PaymentDeclined"),
    "fraud": Expected(fulfillment="OrderCompensated: FraudSuspected"),
    "out-of-stock": Expected(fulfillment="OrderCompensated: OutOfStock"),
    # The ingress rules dead-letter the bad line, so the order never gets all its lines.
    "zero-quantity": Expected(alerted=True, dead_lettered="positive-quantity"),
    "bad-sku": Expected(alerted=True, dead_lettered="sku-format"),
}


@dataclass(frozen=True, slots=True)
class Event:
    """One change event, ready for the playground ingress."""

    message: OrderHeader | OrderLine
    binary: bool
    # Sent as Idempotency-Key: a client (or its HTTP library) that sends this event again
    # after a lost answer does not deliver it twice. A late re-send is a new event: a new key.
    key: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def order_id(self) -> str:
        return self.message.order_id

    @property
    def path(self) -> str:
        return f"orders/order/{self.message.order_id}"

    @property
    def content_type(self) -> str:
        cls = type(self.message)
        return f"application/vnd.{binary_typename(cls) if self.binary else json_typename(cls)}"

    @property
    def body(self) -> bytes:
        return self.message.SerializeToString() if self.binary else to_json(self.message).encode()


@dataclass(slots=True)
class PlannedOrder:
    order_id: str
    scenario: str
    header: OrderHeader
    lines: list[OrderLine]

    @property
    def expected(self) -> Expected:
        return EXPECTED[self.scenario]


@dataclass(slots=True)
class Stream:
    orders: list[PlannedOrder] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def expected_count(self, **match: object) -> int:
        return sum(all(getattr(o.expected, k) == v for k, v in match.items()) for o in self.orders)


def scenario_plan(count: int, rng: random.Random) -> list[str]:
    """`count` scenarios: each share at least once, the rest ok, in random order."""
    if count < MIN_ORDERS:
        raise ValueError(f"at least {MIN_ORDERS} orders are needed to provoke every path")
    plan = [name for name, share in SHARES.items() for _ in range(max(1, round(count * share)))]
    plan += ["ok"] * (count - len(plan))
    rng.shuffle(plan)
    return plan


def generate(count: int = 200, seed: int = 7, created_at_ms: int = 0) -> Stream:
    """Orders `o-0001`… and their events, shuffled (see the module doc)."""
    rng = random.Random(seed)
    stream = Stream()
    placed: list[tuple[float, Event]] = []  # (position in the stream, event)
    skus = sorted(CATALOG)
    for index, scenario in enumerate(scenario_plan(count, rng), start=1):
        order_id = f"o-{index:04d}"
        line_count = rng.randint(1, 4)
        header = OrderHeader(
            order_id=order_id,
            customer_id=f"{FRAUD_PREFIX if scenario == 'fraud' else 'c-'}{rng.randint(1, 999):04d}",
            line_count=line_count,
            card_number=DECLINED_CARD if scenario == "declined" else GOOD_CARD,
            currency="EUR",
            created_at_ms=created_at_ms,
        )
        lines = []
        for line_no, sku in enumerate(rng.sample(skus, line_count), start=1):
            lines.append(OrderLine(order_id=order_id, line_no=line_no, sku=sku,
                                   quantity=rng.randint(1, 3), unit_price_cents=CATALOG[sku]))
        if scenario == "out-of-stock":
            victim = lines[rng.randrange(line_count)]
            victim.sku = OUT_OF_STOCK_PREFIX + victim.sku
        if scenario == "zero-quantity":
            lines[rng.randrange(line_count)].quantity = 0
        if scenario == "bad-sku":
            victim = lines[rng.randrange(line_count)]
            victim.sku = victim.sku.lower()
        stream.orders.append(PlannedOrder(order_id, scenario, header, lines))

        sent: list[OrderHeader | OrderLine] = list(lines)
        if scenario == "missing-line":
            sent.pop(rng.randrange(line_count))
        if scenario != "missing-header":
            sent.append(header)
        start = len(placed)
        placed += [(start + rng.uniform(0, WINDOW), Event(message, binary=rng.random() < 0.5))
                   for message in sent]
    placed.sort(key=lambda item: item[0])
    stream.events = [event for _, event in placed]
    return stream


def late_events(stream: Stream, count: int = 3) -> list[Event]:
    """Events re-sent for orders that are done by now (a completed one first, then an alerted one)."""
    completed = [o for o in stream.orders if not o.expected.alerted]
    alerted = [o for o in stream.orders if o.expected.alerted and not o.expected.dead_lettered]
    picked = (completed[: max(1, count - 1)] + alerted[:1])[:count]
    return [Event(order.lines[0], binary=False) for order in picked]
