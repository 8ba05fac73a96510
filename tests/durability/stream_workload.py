"""The crash tests' stream workload, shared by the Kafka and Kinesis ones.

Keyed records of small amounts; the function keeps a running count and total per key and emits
`key:count:total` for each record, so every expected egress record is known up front and a lost
or doubled record shows as a missing or extra one.
"""

from __future__ import annotations

import random
from collections import Counter


def running_totals(records: int, keys: int, seed: int = 10) -> tuple[list[tuple[str, bytes]], Counter[str]]:
    """The records (key, amount) and the egress records expected for them, each once."""
    rng = random.Random(seed)
    workload = [(f"key-{rng.randrange(keys)}", str(rng.randrange(1, 10)).encode()) for _ in range(records)]
    expected: Counter[str] = Counter()
    totals: dict[str, int] = {}
    counts: dict[str, int] = {}
    for key, amount in workload:
        totals[key] = totals.get(key, 0) + int(amount)
        counts[key] = counts.get(key, 0) + 1
        expected[f"{key}:{counts[key]}:{totals[key]}"] += 1
    return workload, expected
