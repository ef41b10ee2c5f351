"""Two malloc arenas for the whole process, unless the environment chose (`MALLOC_ARENA_MAX`).

glibc gives a thread that allocates while another holds the main arena an arena of its own, up to 8 per core;
each keeps the memory its thread freed for that thread's later use. The runtime's threads (capture, lanes, the
outbox's committer, the interpreter's workers) allocate little outside their start-up, so their arenas are mostly
memory held back: on a 2-core machine, 4 streams peak at ~1.3 MiB less with two arenas. Two, not one, so the
threads that do allocate per frame (capture) rarely wait on each other's lock.

Set once, before the runtime starts its threads; a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import os

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at `count` for the threads started from now on; True when it was set here."""
    if "MALLOC_ARENA_MAX" in os.environ:  # glibc read it at start-up: the operator's choice stands
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # musl, macOS: their allocators do not work this way
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))
