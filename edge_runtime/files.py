"""Files named by a config are hostile until checked: regular files only, size-capped, never a FIFO or a device.

`read_regular_file` is how the runtime reads such a file (a labels file, a trusted key, the config itself);
`file_problem` is the same check without the read, so `edge-runtime validate` refuses what the run would.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

SMALL_FILE_BYTES = 1024**2  # labels, keys, certificates: a real one is a few KiB


def read_regular_file(path: Path, max_bytes: int = SMALL_FILE_BYTES) -> bytes:
    """The file's bytes; OSError (with a readable strerror) for a non-regular file or one over `max_bytes`."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens without waiting for a writer
    try:
        info = os.fstat(fd)
        _check(info, path, max_bytes)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
    return data


def file_problem(path: Path, max_bytes: int = SMALL_FILE_BYTES) -> str | None:
    """Why `path` cannot be read as a config-named file, or None when it can (it exists, is regular, is small)."""
    try:
        info = path.stat()
        _check(info, path, max_bytes)
    except OSError as exc:
        return f"cannot read {_short(path)}: {exc.strerror or exc}"
    return None


def directory_problem(path: Path) -> str | None:
    """Why `path` cannot be a file the runtime creates or appends to (it is a directory, a FIFO, a device)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot use {_short(path)}: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return f"{_short(path)} is {_kind(info.st_mode)}, not a regular file"
    return None


def resolve_path(base_dir: Path, path: str) -> Path:
    """Relative paths in a config are relative to the config file's directory; `~` is the user's home."""
    p = Path(path)
    with contextlib.suppress(RuntimeError):  # `~name` of an unknown user: kept as written, reported as not found
        p = p.expanduser()
    return p if p.is_absolute() else base_dir / p


def _check(info: os.stat_result, path: Path, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, f"{_kind(info.st_mode)}, not a regular file", str(path))
    if info.st_size > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-16:]}"
