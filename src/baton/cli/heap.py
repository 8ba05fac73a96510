"""The garbage collector of a long-running baton process (`baton run`, `baton serve`).

Every message allocates a few dozen container objects that die within milliseconds, but some
live across an epoch commit and reach the oldest generation; CPython then runs full
collections over the whole heap (every module, every cached state value). Measured under
`bench.http_ingress` (1,000 ids): ~18 µs of CPU per message went to collections and the full
ones paused the event loop for up to ~38 ms, which set the p99 acknowledgement latency.
After startup the heap built so far is frozen (never traversed again), and collections of the
young generations run less often.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 7_000  # allocations between young collections (CPython's default: 700)


def settle_heap() -> None:
    """Freeze what startup allocated and space out collections; call once, when serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
