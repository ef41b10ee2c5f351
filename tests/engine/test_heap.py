"""The runtime freezes its start-up heap while it runs, and unfreezes it at the end."""

from __future__ import annotations

import gc

from edge_runtime.engine._heap import settled_heap


def test_the_start_up_heap_is_frozen_while_the_streams_run_and_released_after() -> None:
    gc.unfreeze()
    kept = [object() for _ in range(10)]  # tracked? no: plain objects are not; a list of them is
    with settled_heap():
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())  # frozen objects are out of every generation
    assert gc.get_freeze_count() == 0
    assert any(obj is kept for obj in gc.get_objects())
