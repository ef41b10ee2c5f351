"""Give back a model file's pages once XNNPACK has packed its weights (Linux).

XNNPACK copies a model's weights into its own packed buffers when the interpreter is allocated; the interpreter
keeps the file mapped, but its kernels no longer read the weights there. Those pages would still count in the
resident set: the model's size twice, per interpreter, which matters on a Raspberry Pi. `release` tells the
kernel it may drop them (``madvise(MADV_DONTNEED)`` on the read-only mappings of that file). A page read again
is faulted back in from the page cache, unchanged: it is a hint about memory, never about what the model reads.
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

log = logging.getLogger(__name__)

MADV_DONTNEED = 4
MAPS = Path("/proc/self/maps")


def release(path: Path) -> int:
    """Bytes of read-only mappings of `path` handed back; 0 where /proc or madvise are not there."""
    try:
        ranges = _read_only_ranges(path.resolve(), MAPS.read_text())
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):  # not Linux
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end in ranges:
        if madvise(start, end - start, MADV_DONTNEED) == 0:
            released += end - start
        else:
            log.debug("madvise(%s) failed: errno %d", path, ctypes.get_errno())
    return released


def _read_only_ranges(path: Path, maps: str) -> list[tuple[int, int]]:
    """(start, end) of every mapping of `path` that is not writable, from /proc/self/maps text."""
    found = []
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == str(path) and "w" not in fields[1]:
            low, high = fields[0].split("-")
            found.append((int(low, 16), int(high, 16)))
    return found
