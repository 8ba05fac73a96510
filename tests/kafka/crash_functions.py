"""The Kafka crash test's function, in its own process: `python -m tests.kafka.crash_functions`.

`crash/counter` (tests/durability/source_support.py: `running_total_functions`) sends its records
to the Kafka egress `crash/out`, topic `totals`, keyed by the address's id.
"""

from __future__ import annotations

import asyncio

from statefun import kafka_egress_message

from tests.durability.source_support import running_total_functions, serve_until_stopped

functions = running_total_functions(
    lambda key, value: kafka_egress_message(typename="crash/out", topic="totals", key=key, value=value))

if __name__ == "__main__":
    asyncio.run(serve_until_stopped(functions))
