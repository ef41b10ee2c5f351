"""The options of a cascade: an `infer` stage after a detector, run on each selected detection's crop."""

from __future__ import annotations

from pydantic import Field

from edge_runtime.sections import StrictModel


class CascadeOnConfig(StrictModel):
    """Which detections of the detector (the pipeline's first `infer` stage) get a crop."""

    labels: list[str] | None = Field(None, description="Only detections with these labels; default: all.")
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="Only detections scoring at least this.")
    max_per_frame: int = Field(
        4, ge=1, le=64, description="At most this many crops per frame, best scores first; the rest get none."
    )


class CropConfig(StrictModel):
    """How a detection's box becomes the crop the second model sees."""

    expand: float = Field(
        0.25, ge=0.0, le=4.0, description="Grow the box by this fraction of its size on every side's total."
    )
    square: bool = Field(True, description="Make the crop square (the longer side), around the box centre.")
