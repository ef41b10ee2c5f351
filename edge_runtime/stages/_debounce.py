"""The `debounce` stage: report changes, not every sample.

Readings: a value is reported when it moved by `delta` (change-only), or, with `on_above`/`off_below`, when it
crosses into on or off with hysteresis. Detections and classifications: a label's presence turns on after
`on_frames` results in a row with it and off after `off_frames` without. At most one report per key per
`min_interval_s`; a change held back by it goes out later (on a result or a tick) if it still stands.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge_runtime.results import ModelRef, Result
from edge_runtime.stages._change import DeltaWatch, HysteresisWatch, PresenceWatch, Watch
from edge_runtime.stages._derive import NAME_DESCRIPTION, NAME_PATTERN, DerivingConfig, DerivingStage
from edge_runtime.stages._payload import LABELLED, MALFORMED, READING, hits, values

KIND = "change"
MAX_KEYS = 256  # watched keys per stage (values or labels); more are dropped as too_many_keys
TOO_MANY_KEYS = "too_many_keys"


class DebounceConfig(DerivingConfig):
    """Change-only or hysteresis on reading values; on/off presence with frame counts on labels."""

    type: Literal["debounce"]
    name: str = Field("debounce", pattern=NAME_PATTERN, description=NAME_DESCRIPTION)
    value: str | None = Field(None, description="Readings: the value to watch (unset: every value).")
    delta: float = Field(0.0, ge=0, description="Readings: report when a value moved this much (0: any change).")
    on_above: float | None = Field(None, description="Readings, hysteresis: on when a value rises above this.")
    off_below: float | None = Field(None, description="Readings, hysteresis: off when it falls below this.")
    label: str | None = Field(None, description="Detections: the label to watch (unset: every label seen).")
    min_score: float = Field(0.5, ge=0, le=1, description="Detections: a label is present when scored this high.")
    on_frames: int = Field(1, ge=1, le=1000, description="Detections: results in a row with the label to turn on.")
    off_frames: int = Field(1, ge=1, le=1000, description="Detections: results in a row without it to turn off.")
    min_interval_s: float = Field(0.0, ge=0, description="At most one report per key this often.")

    @model_validator(mode="after")
    def _check_hysteresis(self) -> DebounceConfig:
        if (self.on_above is None) != (self.off_below is None):
            raise ValueError("on_above and off_below go together")
        if self.on_above is not None and self.off_below is not None:
            if self.off_below > self.on_above:
                raise ValueError(f"off_below ({self.off_below}) must not exceed on_above ({self.on_above})")
            if self.delta:
                raise ValueError("use delta or on_above/off_below, not both")
        return self


class DebounceStage(DerivingStage):
    """Emits ``change`` results on the stream ``<stream>:<name>``."""

    def __init__(self, config: DebounceConfig, stream: str) -> None:
        super().__init__(config.name, stream, config.forward)
        self.config = config
        self._watches: dict[str, Watch] = {}
        self._last_report: dict[str, float] = {}
        self._model: ModelRef | None = None

    def _new_watch(self, reading: bool) -> Watch:
        cfg = self.config
        if not reading:
            return PresenceWatch(cfg.on_frames, cfg.off_frames)
        if cfg.on_above is not None and cfg.off_below is not None:
            return HysteresisWatch(cfg.on_above, cfg.off_below)
        return DeltaWatch(cfg.delta)

    def _watch(self, key: str, reading: bool) -> Watch | None:
        watch = self._watches.get(key)
        if watch is None and len(self._watches) < MAX_KEYS:
            watch = self._watches[key] = self._new_watch(reading)
        elif watch is None:
            self.drops.add(TOO_MANY_KEYS)
        return watch

    def process(self, result: Result) -> list[Result]:
        if result.kind == READING:
            self._observe_values(result)
        elif result.kind in LABELLED:
            self._observe_labels(result)
        else:
            return [result]
        self._model = result.model
        return self.passed(result) + self._due(result.ts_capture, result.t_capture)

    def _observe_values(self, result: Result) -> None:
        found, malformed = values(result)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        for name, value in found.items():
            if self.config.value not in (None, name):
                continue
            if isinstance(watch := self._watch(name, True), DeltaWatch | HysteresisWatch):
                watch.observe(value)

    def _observe_labels(self, result: Result) -> None:
        found, malformed = hits(result)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        best: dict[str, float] = {}
        for hit in found:
            if hit.score >= self.config.min_score and self.config.label in (None, hit.label):
                best[hit.label] = max(best.get(hit.label, 0.0), hit.score)
        keys = set(best) | {k for k, w in self._watches.items() if isinstance(w, PresenceWatch)}
        if self.config.label is not None:
            keys.add(self.config.label)
        for key in sorted(keys):
            if isinstance(watch := self._watch(key, False), PresenceWatch):
                watch.observe(best.get(key))

    def tick(self, now: float) -> list[Result]:
        return self._due(now, None)

    def _due(self, now: float, t_capture: float | None) -> list[Result]:
        out = []
        for key, watch in self._watches.items():
            change = watch.pending()
            if change is None or now - self._last_report.get(key, -float("inf")) < self.config.min_interval_s:
                continue
            watch.reported()
            self._last_report[key] = now
            out.append(self.derive(KIND, {"key": key, **change}, now, t_capture, self._model))
        return out


def build(config: DebounceConfig, stream: str) -> DebounceStage:
    return DebounceStage(config, stream)
