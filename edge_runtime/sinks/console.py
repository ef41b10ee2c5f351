"""The `console` sink: one short human line per result."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from cloud_sync.envelope import Envelope
from edge_runtime.sinks._base import Sink
from edge_runtime.sinks._writer import LineWriter


def summarize(envelope: Envelope) -> str:
    """A one-line summary of an envelope's payload."""
    payload = envelope.get("payload", {})
    kind = envelope.get("kind", "")
    if kind == "detections":
        dets = payload.get("detections", [])
        if not dets:
            return "no detections"
        return ", ".join(f"{d['label']} {d['score']:.2f} [{', '.join(f'{v:.2f}' for v in d['box'])}]" for d in dets)
    if kind == "classification":
        classes = payload.get("classes", [])
        return ", ".join(f"{c['label']} {c['score']:.2f}" for c in classes) or "no class above threshold"
    return ", ".join(f"{k}={v}" for k, v in payload.items())


class ConsoleSink(Sink):
    def __init__(
        self, name: str, every: int = 1, kinds: list[str] | None = None, printer: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(name)
        self.every = every
        self.kinds = set(kinds) if kinds else None
        self._writer: LineWriter | None = None
        if printer is None:
            self._writer = LineWriter(name, sys.stdout, _write_line)
            printer = self._writer.submit
        self._print = printer
        self._seen: Counter[str] = Counter()

    def send(self, envelope: Envelope) -> None:
        if self.kinds is not None and envelope.get("kind") not in self.kinds:
            return
        stream = str(envelope.get("stream"))
        self._seen[stream] += 1
        if (self._seen[stream] - 1) % self.every:
            return
        where = envelope.get("source") or f"#{envelope.get('seq')}"
        latency_ms = (envelope.get("ts_result", 0.0) - envelope.get("ts_capture", 0.0)) * 1e3
        self._print(f"[{stream}] {where} {envelope.get('kind')}: {summarize(envelope)} ({latency_ms:.0f} ms)")


    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _write_line(line: object, out: TextIO) -> None:
    out.write(f"{line}\n")
