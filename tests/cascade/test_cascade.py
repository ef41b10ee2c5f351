"""Cascades end to end: BlazeFace, then MediaPipe face landmarks on each face's crop, through the runtime."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from edge_runtime.stats import StreamStats
from tests.cascade.conftest import build, write_photos

# MediaPipe face mesh: eye corners and the lips' middle.
EYES = (33, 133, 362, 263)
MOUTH = (13, 14)


def _run(tmp_path: Path, models_yaml: str, photos: list[str]) -> tuple[list[dict[str, Any]], StreamStats]:
    images = write_photos(tmp_path / "images", photos)
    runtime, memory = build(
        tmp_path,
        models_yaml,
        f"""\
  faces:
    source: {{type: images, path: {images}, fps: 20}}
    priority: high
    pipeline:
      - {{type: infer, model: faces}}
      - {{type: infer, model: face_landmarks, on: {{labels: [face], min_score: 0.6}}, crop: {{expand: 0.25}}}}
    sinks: [mem]""",
    )
    asyncio.run(runtime.run(duration=30))
    return [dict(e) for e in memory.envelopes], runtime.streams[0].runner.stats


def test_landmarks_of_the_astronaut_face_none_on_coffee(tmp_path: Path, models_yaml: str) -> None:
    envelopes, stats = _run(tmp_path, models_yaml, ["astronaut", "coffee"])
    by_source = {Path(e["source"]).name: e for e in envelopes}
    (face,) = by_source["00-astronaut.png"]["payload"]["detections"]
    sub = face["sub"]
    assert (sub["model"], sub["kind"]) == ("face_landmarks", "landmarks")
    points = sub["payload"]["points"]
    assert len(points) == 468
    assert sub["payload"]["presence"] > 0.5
    x0, y0, x1, y1 = face["box"]
    w, h = x1 - x0, y1 - y0
    side = max(w, h) * 1.25 * 0.5  # the expanded square crop (astronaut is square: one scale on both axes)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for x, y, _z in points:
        assert cx - side <= x <= cx + side
        assert cy - side <= y <= cy + side
    eyes_y = max(points[i][1] for i in EYES)
    mouth_y = min(points[i][1] for i in MOUTH)
    assert eyes_y < mouth_y
    assert by_source["01-coffee.png"]["payload"]["detections"] == []
    crops = stats.crops["face_landmarks"]
    assert (crops.offered, crops.completed, crops.drops.total) == (1, 1, 0)  # coffee: no landmark invocation
    assert stats.offered == stats.completed == 2


def test_a_chain_nests_person_face_landmarks_on_the_whole_frame(tmp_path: Path, models_yaml: str) -> None:
    images = write_photos(tmp_path / "images", ["astronaut"])
    runtime, memory = build(
        tmp_path,
        models_yaml,
        f"""\
  chain:
    source: {{type: images, path: {images}, fps: 20}}
    pipeline:
      - {{type: infer, model: person}}
      - {{type: infer, model: faces, on: {{labels: [person]}}, crop: {{expand: 1.0}}}}
      - {{type: infer, model: face_landmarks, on: {{labels: [face]}}}}
    sinks: [mem]""",
    )
    asyncio.run(runtime.run(duration=30))
    (envelope,) = memory.envelopes
    assert isinstance(envelope["payload"], dict)
    (person,) = envelope["payload"]["detections"]
    (face,) = person["sub"]["payload"]["detections"]
    # the face found in the person's crop is where BlazeFace finds it on the whole photo
    assert face["box"] == pytest.approx([0.35, 0.16, 0.53, 0.34], abs=0.03)
    assert len(face["sub"]["payload"]["points"]) == 468
    crops = runtime.streams[0].runner.stats.crops
    assert [(c.offered, c.completed) for c in crops.values()] == [(1, 1), (1, 1)]
