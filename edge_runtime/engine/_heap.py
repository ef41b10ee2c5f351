"""The heap once start-up is done: collected, then frozen out of later collections.

CPython's full collection walks every tracked object. What start-up made (modules, config models, interpreters,
the outbox: ~80k objects) is never garbage, yet a full pass over it holds the GIL for 35-50 ms on a 2-core
board, stalling every stream at once; under a busy uplink (2,000 readings/s) such a pass comes every ~5-7 s and
is a high stream's p99. Frozen (`gc.freeze`), those objects are left out: a full pass walks only what the
streams made since (~8 ms). Objects made later are collected as before; a frozen object that becomes
garbage is still freed by its reference count, and a cycle among them once the run ends (they are unfrozen then:
a process that runs several runtimes, a test session, keeps nothing).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """``with settled_heap():`` (entered once start-up is done) collect, freeze; unfreeze on leaving."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
