"""Results and the envelope they travel in (the contract of DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloud_sync.envelope import Envelope, ModelInfo, Provenance


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Which model produced a result."""

    name: str
    version: int
    sha256: str

    def as_dict(self) -> ModelInfo:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class Result:
    """One result of a stream: a model output, a sensor reading, an aggregate or an event.

    `kind` names the payload: ``detections``, ``classification``, ``reading``, ``window``, ``event``, ``alert``.
    """

    stream: str
    seq: int
    ts_capture: float
    t_capture: float  # monotonic, for latency
    ts_result: float
    kind: str
    payload: dict[str, Any]
    model: ModelRef | None = None
    source: str | None = None
    frame: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def envelope(self, device: str, boot_id: str) -> Envelope:
        """The JSON-ready envelope: same in JSONL files and on the wire."""
        provenance: Provenance = {}
        if self.model is not None:
            provenance["model"] = self.model.as_dict()
        if self.source is not None:
            provenance["source"] = self.source
        if self.frame is not None:
            provenance["frame"] = self.frame
        env: Envelope = {
            "device": device,
            "stream": self.stream,
            "seq": self.seq,
            "boot_id": boot_id,
            "ts_capture": round(self.ts_capture, 6),
            "ts_result": round(self.ts_result, 6),
            **provenance,
            "kind": self.kind,
            "payload": self.payload,
        }
        return env
