"""The live status block on a terminal: result lines scroll above it, the block redraws in place."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO

from edge_runtime.stats import StreamStats


def status_line(stats: StreamStats, elapsed_s: float) -> str:
    """`porch     9.8 fps  p50 41 ms  p99 77 ms  drops 3 (stale 2, superseded 1)`."""
    snap = stats.latency.quantiles()
    drops = stats.drops.snapshot()
    total = sum(drops.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(drops.items()) if v)
    fps = stats.completed / elapsed_s if elapsed_s > 0 else 0.0
    return (
        f"{stats.stream:<12} {fps:6.1f} fps  p50 {snap['p50_ms']:6.1f} ms  p99 {snap['p99_ms']:6.1f} ms  "
        f"done {stats.completed}  drops {total}" + (f" ({detail})" if detail else "")
    )


class LiveTerminal:
    """Prints result lines and keeps a status block of N lines below them (ANSI, TTY only)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._lock = threading.Lock()
        self._block: list[str] = []

    def print(self, line: str) -> None:
        with self._lock:
            self._erase()
            self._out.write(line + "\n")
            self._draw()
            self._out.flush()

    def update(self, block: list[str]) -> None:
        with self._lock:
            self._erase()
            self._block = block
            self._draw()
            self._out.flush()

    def close(self) -> None:
        with self._lock:
            self._block = []
            self._out.flush()

    def _erase(self) -> None:
        if self._block:
            self._out.write(f"\x1b[{len(self._block)}F\x1b[J")

    def _draw(self) -> None:
        for line in self._block:
            self._out.write(line + "\n")


class TerminalLogHandler(logging.Handler):
    """Log records printed above the status block, so they do not tear it."""

    def __init__(self, terminal: LiveTerminal) -> None:
        super().__init__()
        self.terminal = terminal

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.terminal.print(self.format(record))
        except Exception:  # logging must never raise into the caller
            self.handleError(record)
