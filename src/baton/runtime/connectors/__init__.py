"""Connectors: the runtime's link to external sources and sinks (Kafka, Kinesis).

Two seams, one per direction, so a new system needs only its client code:

- a **source** (`source.py`) reads records, turns each into messages and hands them to the
  runtime with its `SourcePosition` (`SourceRuntime.ingest_record`): messages and position land
  in the same epoch, and a restart resumes from the stored positions — exactly once.
- a **publisher** (`publisher.py`) sends committed outbox records to a sink; `OutboxDrain`
  removes them from the outbox only once the sink acknowledged them.

`factory.py` builds the connectors a module declares.
"""
