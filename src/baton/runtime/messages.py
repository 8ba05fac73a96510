"""What flows through the runtime: messages, delayed messages and egress records."""

from __future__ import annotations

from dataclasses import dataclass

from baton.runtime.address import Address


@dataclass(slots=True)
class Message:
    """A message to one address; `value is None` is StateFun's `has_value=false`."""

    target: Address
    caller: Address | None
    typename: str
    value: bytes | None
    seq: int = 0  # position in the durable mailbox (assigned by the store)
    # W3C traceparent of whoever sent it (the ingress request, or the sending batch's span);
    # kept in memory only (see baton.runtime.observability.tracing).
    trace: str | None = None


@dataclass(slots=True)
class DelayedMessage:
    """A message held back until `fire_at` (epoch seconds); cancellable by `token` from `sender.id`."""

    fire_at: float
    message: Message
    token: str = ""
    seq: int = 0  # assigned by the store; breaks ties between equal fire times

    @property
    def scope(self) -> str:
        """Tokens are scoped by the sender's id only, as in StateFun (its key is `address.id`)."""
        return self.message.caller.id if self.message.caller else ""


@dataclass(slots=True)
class EgressRecord:
    """One record for an egress, as the function sent it (typename and bytes unchanged)."""

    egress: str  # `namespace/type` of the egress id
    typename: str
    value: bytes | None
    topic: str = ""  # the playground topic or Kafka/Kinesis destination, when known
    seq: int = 0  # position in the durable outbox (assigned by the store)


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where a partition of an external source resumes after a record (e.g. Kafka's next offset).

    Stored in the same epoch as the record's messages, so a restart neither loses nor repeats it.
    """

    source: str  # the ingress id, `namespace/name`
    partition: str  # e.g. Kafka `topic/0`, a Kinesis shard id
    position: str  # e.g. the next offset, a sequence number
