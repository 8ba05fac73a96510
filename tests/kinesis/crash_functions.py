"""The Kinesis crash test's function, in its own process: `python -m tests.kinesis.crash_functions`.

`crash/counter` (tests/durability/source_support.py: `running_total_functions`) sends its records
to the Kinesis egress `crash/out`, stream `totals`, with the address's id as partition key.
"""

from __future__ import annotations

import asyncio

from statefun import kinesis_egress_message

from tests.durability.source_support import running_total_functions, serve_until_stopped

functions = running_total_functions(lambda key, value: kinesis_egress_message(
    typename="crash/out", stream="totals", partition_key=key, value=value))

if __name__ == "__main__":
    asyncio.run(serve_until_stopped(functions))
