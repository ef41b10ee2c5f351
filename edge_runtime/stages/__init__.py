"""Post-inference stages: filter, time windows, debounce, threshold alerts and the IoU tracker.

Results a stage derives travel on the stream ``<stream>:<stage name>`` with their own sequence numbers;
see `edge_runtime.stages._derive`.
"""

from __future__ import annotations

from edge_runtime.stages._base import Stage
from edge_runtime.stages._debounce import DebounceConfig, DebounceStage
from edge_runtime.stages._derive import DerivingStage, derived_stream
from edge_runtime.stages._filter import FilterConfig, FilterStage
from edge_runtime.stages._registry import PostStageConfig, build_stage
from edge_runtime.stages._threshold import ThresholdConfig, ThresholdStage
from edge_runtime.stages._tracker import TrackedBox, TrackerConfig, TrackerStage
from edge_runtime.stages._window import WindowConfig, WindowStage

StageConfig = PostStageConfig  # the pipeline's union; the inference stage's config joins it there

__all__ = [
    "DebounceConfig",
    "DebounceStage",
    "DerivingStage",
    "FilterConfig",
    "FilterStage",
    "PostStageConfig",
    "Stage",
    "StageConfig",
    "ThresholdConfig",
    "ThresholdStage",
    "TrackedBox",
    "TrackerConfig",
    "TrackerStage",
    "WindowConfig",
    "WindowStage",
    "build_stage",
    "derived_stream",
]
