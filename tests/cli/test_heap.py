"""`baton run` and `baton serve` settle the heap once serving: startup's objects frozen (full
collections no longer walk them) and young collections spaced out (see baton.cli.heap)."""

from __future__ import annotations

import gc

from baton.cli.heap import YOUNG_THRESHOLD, settle_heap


def test_settle_heap_freezes_startup_objects_and_spaces_young_collections() -> None:
    threshold = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    try:
        startup_object: list[object] = ["allocated before serving"]
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD > threshold[0]
        assert gc.is_tracked(startup_object)
        # Frozen objects sit in the permanent generation: no collection sees them any more.
        assert not any(o is startup_object for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
