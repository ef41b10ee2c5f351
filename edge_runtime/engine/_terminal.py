"""The live status block on a terminal: result lines scroll above it, the block redraws in place."""

from __future__ import annotations

import logging
import shutil
import sys
from typing import Any, TextIO

from edge_runtime.sinks._writer import LineWriter
from edge_runtime.stats import StreamStats


def status_line(stats: StreamStats, elapsed_s: float) -> str:
    """`porch   9.8 fps (avg 9.5)  p50 41 ms  p99 77 ms  done 950  drops 3 (stale 2, superseded 1)`: the fps of
    the last 10 s, then the average since start. A stream whose detection is switched off says `disabled` after
    its name."""
    snap = stats.latency.quantiles()
    drops = stats.drops.snapshot()
    total = sum(drops.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(drops.items()) if v)
    average = stats.completed / elapsed_s if elapsed_s > 0 else 0.0
    after = ", ".join(
        f"{name} {reason} {n}" for name, c in stats.downstream.items() for reason, n in sorted(c.snapshot().items())
    )
    state = "disabled " if stats.status == "disabled" else ""  # first, so an 80-column cut never hides it
    return (
        f"{stats.stream:<12} {state}{stats.rate.per_second():6.1f} fps (avg {average:.1f})  "
        f"p50 {snap['p50_ms']:6.1f} ms  "
        f"p99 {snap['p99_ms']:6.1f} ms  done {stats.completed}  drops {total}"
        + (f" ({detail})" if detail else "")
        + _gate_part(stats)
        + "".join(_crops_part(name, c.snapshot()) for name, c in stats.crops.items())
        + (f"  after: {after}" if after else "")
    )


def summary_line(all_stats: list[StreamStats]) -> str:
    """One line for the whole runtime (systemd's STATUS=): `3 streams, 22.1 results/s, 4 drops`."""
    rate = sum(s.rate.per_second() for s in all_stats)
    drops = sum(s.drops.total for s in all_stats)
    return f"{len(all_stats)} streams, {rate:.1f} results/s, {drops} drops"


def fit(line: str, width: int) -> str:
    """Cut a line to the terminal's width, so a redrawn block never wraps (and smears)."""
    return line if len(line) < width else line[: max(1, width - 2)] + "…"


def _gate_part(stats: StreamStats) -> str:
    """`  gated 412 (gate p50 180 µs)` for a stream with gates."""
    if not stats.gate_cost.count:
        return ""
    return f"  gated {stats.gated} (gate p50 {stats.gate_cost.quantiles()['p50_ms'] * 1e3:.0f} µs)"


def _crops_part(name: str, crops: dict[str, Any]) -> str:
    """`  face_landmarks crops 120/123 (crop_stale 3)`: a cascade's crops done of those selected."""
    drops = ", ".join(f"{k} {v}" for k, v in sorted(crops["drops"].items()) if v)
    return f"  {name} crops {crops['completed']}/{crops['offered']}" + (f" ({drops})" if drops else "")


class LiveTerminal:
    """Result lines scroll above a status block of N lines that redraws in place (ANSI, TTY only).

    A named writer thread owns the terminal, so the event loop never blocks on it; `print` and `update` only
    queue (bounded, drops counted).
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self._block: list[str] = []
        self._writer = LineWriter("terminal", out or sys.stdout, self._render)
        self.drops = self._writer.drops

    def print(self, line: str) -> None:
        self._writer.submit(("line", line))

    def update(self, block: list[str]) -> None:
        self._writer.submit(("block", block))

    def close(self) -> None:
        self._writer.close()

    def _render(self, item: object, out: TextIO) -> None:
        assert isinstance(item, tuple)
        kind, value = item
        if self._block:
            out.write(f"\x1b[{len(self._block)}F\x1b[J")  # up to the block's first line, erase to the end
        if kind == "line":
            out.write(f"{value}\n")
        else:
            self._block = [str(line) for line in value]
        width = shutil.get_terminal_size().columns
        for line in self._block:
            out.write(f"{fit(line, width)}\n")


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
