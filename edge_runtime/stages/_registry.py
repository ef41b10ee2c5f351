"""The post-inference stage kinds: their configs joined on `type:`, and how each is built."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from edge_runtime.stages import _debounce, _filter, _threshold, _tracker, _window
from edge_runtime.stages._base import Stage
from edge_runtime.stages._debounce import DebounceConfig
from edge_runtime.stages._filter import FilterConfig
from edge_runtime.stages._threshold import ThresholdConfig
from edge_runtime.stages._tracker import TrackerConfig
from edge_runtime.stages._window import WindowConfig

PostStageConfig = Annotated[
    FilterConfig | WindowConfig | DebounceConfig | ThresholdConfig | TrackerConfig,
    Field(discriminator="type"),
]


def build_stage(config: PostStageConfig, stream: str) -> Stage:
    """The stage a config describes, for one stream."""
    match config:
        case FilterConfig():
            return _filter.build(config, stream)
        case WindowConfig():
            return _window.build(config, stream)
        case DebounceConfig():
            return _debounce.build(config, stream)
        case ThresholdConfig():
            return _threshold.build(config, stream)
        case TrackerConfig():
            return _tracker.build(config, stream)
