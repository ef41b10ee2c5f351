"""Tracks and how detections join them: greedy IoU matching, highest overlap first, same label only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge_runtime.stages._geometry import Box, iou
from edge_runtime.stages._payload import Detection


@dataclass(slots=True)
class Track:
    """One object followed across frames. `track_id` is given when it is confirmed (after min_hits)."""

    label: str
    box: Box
    score: float
    first_ts: float
    last_ts: float
    first_box: Box = field(init=False)
    best_score: float = field(init=False)
    hits: int = 1
    missed: int = 0
    track_id: int | None = None
    reported_box: Box | None = None
    since_report: int = 0

    def __post_init__(self) -> None:
        self.first_box = self.box
        self.best_score = self.score

    def hit(self, detection: Detection, ts: float) -> None:
        if detection.box is not None:
            self.box = detection.box
        self.score = detection.score
        self.best_score = max(self.best_score, detection.score)
        self.last_ts = ts
        self.hits += 1
        self.missed = 0
        self.since_report += 1

    def summary(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "label": self.label,
            "score": self.score,
            "box": list(self.box),
            "first_seen": self.first_ts,
            "last_seen": self.last_ts,
            "frames": self.hits,
            "best_score": self.best_score,
        }

    def ending(self, reason: str) -> dict[str, Any]:
        return {
            **self.summary(),
            "duration_s": self.last_ts - self.first_ts,
            "first_box": list(self.first_box),
            "last_box": list(self.box),
            "reason": reason,
        }


def associate(
    tracks: list[Track], detections: list[Detection], threshold: float
) -> tuple[list[tuple[Track, Detection]], list[Track], list[Detection]]:
    """Greedy matching: pairs by IoU, highest first, each track and detection used once; IoU must be >= threshold.

    Returns the matched pairs, the tracks left unmatched and the detections left unmatched.
    """
    candidates = []
    for ti, track in enumerate(tracks):
        for di, det in enumerate(detections):
            if det.label == track.label and det.box is not None:
                overlap = iou(track.box, det.box)
                if overlap >= threshold and overlap > 0:
                    candidates.append((overlap, ti, di))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_t: set[int] = set()
    used_d: set[int] = set()
    pairs = []
    for _, ti, di in candidates:
        if ti not in used_t and di not in used_d:
            used_t.add(ti)
            used_d.add(di)
            pairs.append((tracks[ti], detections[di]))
    left_t = [t for i, t in enumerate(tracks) if i not in used_t]
    left_d = [d for i, d in enumerate(detections) if i not in used_d]
    return pairs, left_t, left_d
