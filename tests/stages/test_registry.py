from __future__ import annotations

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from edge_runtime.stages import (
    DebounceStage,
    FilterStage,
    PostStageConfig,
    Stage,
    ThresholdStage,
    TrackerStage,
    WindowStage,
    build_stage,
    derived_stream,
)

PIPELINE = """
- {type: filter, min_score: 0.4, labels: [person, car], zone: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
- {type: tracker, name: people, min_hits: 2}
- {type: window, name: counts, size_s: 60}
- {type: debounce, label: person, on_frames: 3, off_frames: 10}
- {type: threshold, label: person, min_count: 3, cooldown_s: 300}
"""

ADAPTER: TypeAdapter[list[PostStageConfig]] = TypeAdapter(list[PostStageConfig])


def test_a_yaml_pipeline_builds_its_stages() -> None:
    stages: list[Stage] = [build_stage(config, "porch") for config in ADAPTER.validate_python(yaml.safe_load(PIPELINE))]
    kinds = [FilterStage, TrackerStage, WindowStage, DebounceStage, ThresholdStage]
    assert [type(stage) for stage in stages] == kinds
    assert [stage.name for stage in stages] == ["filter", "people", "counts", "debounce", "threshold"]
    assert derived_stream("porch", "people") == "porch:people"


def test_an_unknown_type_names_the_choices() -> None:
    with pytest.raises(ValidationError, match="'filter', 'window', 'debounce', 'threshold', 'tracker'"):
        ADAPTER.validate_python([{"type": "windows", "size_s": 1}])


def test_a_misspelt_key_is_an_error() -> None:
    with pytest.raises(ValidationError, match=r"1\.tracker\.iou_treshold"):
        ADAPTER.validate_python([{"type": "filter"}, {"type": "tracker", "iou_treshold": 0.5}])
