"""The `filter` stage: keeps the detections (or classes) a user cares about, by score, label, size and zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from edge_runtime.drops import DropCounter
from edge_runtime.results import Result
from edge_runtime.sections import StrictModel
from edge_runtime.stages._base import Stage
from edge_runtime.stages._derive import NAME_DESCRIPTION, NAME_PATTERN
from edge_runtime.stages._geometry import Anchor, Point, anchor, area, box_corners, inside
from edge_runtime.stages._payload import DETECTIONS, LABELLED, MALFORMED, Detection, hits

FILTERED = "filtered"  # drop reason: every detection of a result was filtered out and drop_empty is on


def _zone_points(value: Any) -> Any:
    """Accept a box [x0, y0, x1, y1] as well as a polygon [[x, y], ...]."""
    if isinstance(value, Sequence) and len(value) == 4 and all(isinstance(v, int | float) for v in value):
        x0, y0, x1, y1 = value
        return box_corners((x0, y0, x1, y1))
    return value


Zone = Annotated[
    tuple[tuple[float, float], ...],
    BeforeValidator(_zone_points),
    Field(min_length=3, max_length=64),
]


class FilterConfig(StrictModel):
    """Keeps the detections that pass every rule; an unset rule lets everything through."""

    type: Literal["filter"]
    name: str = Field("filter", pattern=NAME_PATTERN, description=NAME_DESCRIPTION)
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="Drop detections scored below this.")
    labels: tuple[str, ...] | None = Field(None, description="Allow list: keep only these labels (unset: all).")
    exclude: tuple[str, ...] = Field((), description="Deny list: drop these labels.")
    min_area: float = Field(0.0, ge=0.0, le=1.0, description="Drop boxes smaller than this share of the image.")
    zone: Zone | None = Field(
        None, description="Keep boxes whose anchor lies inside: a box [x0, y0, x1, y1] or a polygon [[x, y], ...]."
    )
    anchor: Anchor = Field("bottom", description="The point of a box tested against the zone: center or bottom.")
    drop_empty: bool = Field(
        False,
        description="Drop a result left with no detections. Off by default: a tracker downstream needs empty "
        "frames to count misses.",
    )

    @model_validator(mode="after")
    def _check_zone(self) -> FilterConfig:
        for x, y in self.zone or ():
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"zone points are normalized to 0..1 (got [{x}, {y}])")
        return self


class FilterStage(Stage):
    """Edits the detections (or classes) payload; other kinds pass unchanged."""

    def __init__(self, config: FilterConfig, stream: str) -> None:
        super().__init__(config.name, stream)
        self.config = config
        self.drops = DropCounter()
        self._allow = frozenset(config.labels) if config.labels is not None else None
        self._deny = frozenset(config.exclude)
        self._zone: tuple[Point, ...] | None = config.zone

    def keeps(self, hit: Detection) -> bool:
        """Whether one detection passes every rule."""
        if hit.score < self.config.min_score or hit.label in self._deny:
            return False
        if self._allow is not None and hit.label not in self._allow:
            return False
        if hit.box is None:  # a class of a classification: no geometry to test
            return True
        if area(hit.box) < self.config.min_area:
            return False
        return self._zone is None or inside(anchor(hit.box, self.config.anchor), self._zone)

    def process(self, result: Result) -> list[Result]:
        if result.kind not in LABELLED:
            return [result]
        found, malformed = hits(result)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        kept = [hit.raw for hit in found if self.keeps(hit)]
        if not kept and self.config.drop_empty:
            self.drops.add(FILTERED)
            return []
        key = "detections" if result.kind == DETECTIONS else "classes"
        return [replace(result, payload={**result.payload, key: kept})]


def build(config: FilterConfig, stream: str) -> FilterStage:
    return FilterStage(config, stream)
