"""The `threshold` stage: an alert when a reading value leaves its band, or enough of a label is seen.

Each rule and key (value name or label) has its own cooldown: after an alert, the same rule on the same key
stays quiet for `cooldown_s` of capture time.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from edge_runtime.results import Result
from edge_runtime.stages._derive import NAME_DESCRIPTION, NAME_PATTERN, DerivingConfig, DerivingStage
from edge_runtime.stages._payload import LABELLED, MALFORMED, READING, hits, values

KIND = "alert"
ANY_LABEL = "*"
MAX_KEYS = 1024  # cooldown entries kept; the oldest is forgotten beyond it


class ThresholdConfig(DerivingConfig):
    """Alert rules: `above`/`below` on reading values, `min_count` on detections (or classes)."""

    type: Literal["threshold"]
    name: str = Field("threshold", pattern=NAME_PATTERN, description=NAME_DESCRIPTION)
    value: str | None = Field(None, description="Readings: the value to test (unset: every value).")
    above: float | None = Field(None, description="Readings: alert when a value is greater than this.")
    below: float | None = Field(None, description="Readings: alert when a value is less than this.")
    label: str | None = Field(None, description="Detections: the label counted (unset: any label).")
    min_score: float = Field(0.5, ge=0, le=1, description="Detections: count only those scored at least this.")
    min_count: int | None = Field(None, ge=1, description="Detections: alert when at least this many in a result.")
    cooldown_s: float = Field(60.0, ge=0, description="Quiet time after an alert, per rule and key.")

    @model_validator(mode="after")
    def _check_rules(self) -> ThresholdConfig:
        if self.above is None and self.below is None and self.min_count is None:
            raise ValueError("a threshold needs a rule: above, below or min_count")
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError(f"below ({self.below}) must be less than above ({self.above})")
        return self


class ThresholdStage(DerivingStage):
    """Emits ``alert`` results on the stream ``<stream>:<name>``."""

    def __init__(self, config: ThresholdConfig, stream: str) -> None:
        super().__init__(config.name, stream, config.forward)
        self.config = config
        self._last_alert: dict[tuple[str, str], float] = {}

    def process(self, result: Result) -> list[Result]:
        if result.kind == READING:
            breaches = self._value_breaches(result)
        elif result.kind in LABELLED:
            breaches = self._count_breaches(result)
        else:
            return [result]
        alerts = [
            self.derive(KIND, breach, result.ts_capture, result.t_capture, result.model)
            for breach in breaches
            if self._cool(breach["rule"], breach["key"], result.ts_capture)
        ]
        return self.passed(result) + alerts

    def _value_breaches(self, result: Result) -> list[dict[str, Any]]:
        found, malformed = values(result)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        out = []
        above, below = self.config.above, self.config.below
        for name, value in sorted(found.items()):
            if self.config.value not in (None, name):
                continue
            if above is not None and value > above:
                out.append({"rule": "above", "key": name, "value": value, "limit": above})
            elif below is not None and value < below:
                out.append({"rule": "below", "key": name, "value": value, "limit": below})
        return out

    def _count_breaches(self, result: Result) -> list[dict[str, Any]]:
        cfg = self.config
        if cfg.min_count is None:
            return []
        found, malformed = hits(result)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        matching = [h for h in found if h.score >= cfg.min_score and cfg.label in (None, h.label)]
        if len(matching) < cfg.min_count:
            return []
        key = cfg.label or ANY_LABEL
        top = max(h.score for h in matching)
        return [{"rule": "count", "key": key, "value": len(matching), "limit": cfg.min_count, "max_score": top}]

    def _cool(self, rule: str, key: str, ts: float) -> bool:
        """Whether the cooldown of (rule, key) has passed; if so, it starts again at `ts`."""
        last = self._last_alert.get((rule, key))
        if last is not None and ts - last < self.config.cooldown_s:
            return False
        self._last_alert.pop((rule, key), None)
        if len(self._last_alert) >= MAX_KEYS:
            del self._last_alert[next(iter(self._last_alert))]
        self._last_alert[(rule, key)] = ts
        return True


def build(config: ThresholdConfig, stream: str) -> ThresholdStage:
    return ThresholdStage(config, stream)
