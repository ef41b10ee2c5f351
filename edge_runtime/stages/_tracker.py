"""The `tracker` stage: turns per-frame detections into object lifecycles (``new``, ``update``, ``end``).

A detection that overlaps no track starts a tentative one; after `min_hits` matched frames it is confirmed,
gets the next `track_id` and a ``new`` event. A confirmed track reports ``update`` every `update_every`
frames, or sooner when its box moved (IoU with the last reported box below `update_min_iou`). After more
than `max_missed` frames in a row without a match, or `max_age_s` unseen, it ends with an ``end`` event;
`flush()` ends every open track. Tentative tracks vanish silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from edge_runtime.results import ModelRef, Result
from edge_runtime.stages._derive import NAME_DESCRIPTION, NAME_PATTERN, DerivingConfig, DerivingStage
from edge_runtime.stages._geometry import Box, iou
from edge_runtime.stages._payload import DETECTIONS, MALFORMED, Detection, hits
from edge_runtime.stages._tracks import Track, associate

KIND = "event"
TOO_MANY_TRACKS = "too_many_tracks"  # drop reason: a detection could not start a track (max_tracks reached)


class TrackerConfig(DerivingConfig):
    """IoU tracking of detections, per label."""

    type: Literal["tracker"]
    name: str = Field("tracker", pattern=NAME_PATTERN, description=NAME_DESCRIPTION)
    iou_threshold: float = Field(0.3, gt=0, le=1, description="Least overlap for a detection to join a track.")
    min_hits: int = Field(3, ge=1, le=1000, description="Matched frames before a track is confirmed (new event).")
    max_missed: int = Field(5, ge=0, le=10000, description="Frames in a row without a match a track survives.")
    max_age_s: float | None = Field(None, gt=0, description="End a track unseen this long (checked on ticks too).")
    update_every: int = Field(10, ge=0, description="Frames between update events of a track (0: only on moves).")
    update_min_iou: float = Field(
        0.5, ge=0, le=1, description="Update sooner when the box overlaps the last reported one less than this."
    )
    max_tracks: int = Field(64, ge=1, le=10000, description="Open tracks at most; beyond, detections start none.")


@dataclass(frozen=True, slots=True)
class TrackedBox:
    """A confirmed track seen on a frame: what the console draws (the result envelopes are not changed)."""

    track_id: int
    label: str
    box: Box


class TrackerStage(DerivingStage):
    """Emits ``event`` results on the stream ``<stream>:<name>``, payload ``type`` new | update | end."""

    def __init__(self, config: TrackerConfig, stream: str) -> None:
        super().__init__(config.name, stream, config.forward)
        self.config = config
        self._tracks: list[Track] = []
        self._next_id = 1
        self._model: ModelRef | None = None
        self.latest: tuple[int, list[TrackedBox]] = (-1, [])  # (frame seq, confirmed tracks matched on it)

    @property
    def open_tracks(self) -> int:
        return len(self._tracks)

    def process(self, result: Result) -> list[Result]:
        if result.kind != DETECTIONS:
            return [result]
        found, malformed = hits(result)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        self._model = result.model
        ts = result.ts_capture
        events = self._age_out(ts, result.t_capture)
        pairs, missed, fresh = associate(self._tracks, found, self.config.iou_threshold)
        events += self._missed(missed, ts, result.t_capture)
        events += self._matched(pairs, ts, result.t_capture)
        events += self._start(fresh, ts, result.t_capture)
        self.latest = (result.seq, self._seen_at(ts))
        return self.passed(result) + events

    def _seen_at(self, ts: float) -> list[TrackedBox]:
        """The confirmed tracks matched (or started) on the frame captured at `ts`."""
        return [
            TrackedBox(t.track_id, t.label, t.box) for t in self._tracks if t.track_id is not None and t.last_ts == ts
        ]

    def _event(self, kind: str, track: Track, ts: float, t_capture: float | None, reason: str = "") -> Result:
        payload = track.ending(reason) if kind == "end" else track.summary()
        if kind != "end":
            track.reported_box = track.box
            track.since_report = 0
        return self.derive(KIND, {"type": kind, **payload}, ts, t_capture, self._model)

    def _end(self, ending: list[Track], reason: str, ts: float | None, t_capture: float | None) -> list[Result]:
        """Remove tracks; confirmed ones report `end` at `ts` (None: each at its last sighting)."""
        gone = {id(track) for track in ending}
        self._tracks = [track for track in self._tracks if id(track) not in gone]
        return [
            self._event("end", t, t.last_ts if ts is None else ts, t_capture, reason)
            for t in ending
            if t.track_id is not None
        ]

    def _missed(self, missed: list[Track], ts: float, t_capture: float) -> list[Result]:
        for track in missed:
            track.missed += 1
        ending = [track for track in missed if track.missed > self.config.max_missed]
        return self._end(ending, "missed", ts, t_capture)

    def _age_out(self, now: float, t_capture: float | None) -> list[Result]:
        if self.config.max_age_s is None:
            return []
        ending = [track for track in self._tracks if now - track.last_ts >= self.config.max_age_s]
        return self._end(ending, "max_age", now, t_capture)

    def _matched(self, pairs: list[tuple[Track, Detection]], ts: float, t_capture: float) -> list[Result]:
        events = []
        for track, detection in pairs:
            track.hit(detection, ts)
            if track.track_id is None:
                events += self._confirm(track, ts, t_capture)
            elif self._update_due(track):
                events.append(self._event("update", track, ts, t_capture))
        return events

    def _update_due(self, track: Track) -> bool:
        every = self.config.update_every
        if every and track.since_report >= every:
            return True
        return track.reported_box is not None and iou(track.box, track.reported_box) < self.config.update_min_iou

    def _confirm(self, track: Track, ts: float, t_capture: float) -> list[Result]:
        if track.hits < self.config.min_hits:
            return []
        track.track_id = self._next_id
        self._next_id += 1
        return [self._event("new", track, ts, t_capture)]

    def _start(self, fresh: list[Detection], ts: float, t_capture: float) -> list[Result]:
        events = []
        for detection in fresh:
            if detection.box is None:
                continue
            if len(self._tracks) >= self.config.max_tracks:
                self.drops.add(TOO_MANY_TRACKS)
                continue
            track = Track(detection.label, detection.box, detection.score, first_ts=ts, last_ts=ts)
            self._tracks.append(track)
            events += self._confirm(track, ts, t_capture)
        return events

    def tick(self, now: float) -> list[Result]:
        return self._age_out(now, None)

    def flush(self) -> list[Result]:
        return self._end(list(self._tracks), "flush", None, None)


def build(config: TrackerConfig, stream: str) -> TrackerStage:
    return TrackerStage(config, stream)
