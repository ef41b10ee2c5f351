"""Cascades: a second model on each detection's crop, scheduled as the stream's own jobs."""

from __future__ import annotations

from edge_runtime.cascade._config import CascadeOnConfig, CropConfig
from edge_runtime.cascade._step import CROP_STALE, CascadeStep, run_cascades

__all__ = ["CROP_STALE", "CascadeOnConfig", "CascadeStep", "CropConfig", "run_cascades"]
