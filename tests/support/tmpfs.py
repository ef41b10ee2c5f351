"""A small tmpfs the test mounts and unmounts itself (a full disk, a read-only file system, for real).

Mounting needs root, which CI has. When the mount is refused the test fails, never skips: a fault test that
quietly does not run is worse than none.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"mount {' '.join(args)} failed (these tests need root): {proc.stderr.strip()}")


@contextmanager
def tmpfs(where: Path, size: str = "512k") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, mode: str) -> None:
    """`ro` or `rw`."""
    _mount("-o", f"remount,{mode}", str(where))
