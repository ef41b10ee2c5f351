"""The motion gate on real video written from real photos: still stretches gated, moving ones open at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_runtime.frames import Frame
from edge_runtime.gates import Gate, MotionGate, MotionGateConfig, check_gates
from edge_runtime.gates.clip import Clip, photo, write_clip
from edge_runtime.stats import StreamStats
from tests.cascade.conftest import build


def test_still_stretches_are_gated_moving_ones_run_the_model(tmp_path: Path, models_yaml: str) -> None:
    clip = write_clip(tmp_path / "clip.mp4", still=30, moving=8)
    runtime, memory = build(
        tmp_path,
        models_yaml,
        f"""\
  porch:
    source: {{type: video, path: {clip.path}, realtime: false}}
    pipeline:
      - {{type: motion}}
      - {{type: infer, model: person}}
    sinks: [mem]""",
    )
    asyncio.run(runtime.run(duration=60))
    stats = runtime.streams[0].runner.stats
    assert stats.offered == clip.frames
    assert stats.offered == stats.completed + stats.gated + stats.drops.total
    # The gate sees every frame (a file source waits for room), so what it keeps back is exact; what it lets
    # through may still be superseded at the accelerator by the next frame it lets through.
    assert stats.gated == len(_still(clip) - _cuts(clip))
    assert stats.gate_cost.count == clip.frames
    found = {e["frame"] for e in memory.envelopes if e["payload"]["detections"]}
    for (start, end), person in zip(clip.moving, clip.people, strict=True):
        assert bool(found & set(range(start, end))) == person, f"panning from frame {start}"


def test_gate_opens_on_each_moving_stretch_at_once(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", still=20, moving=6)
    opened = set(_opened(MotionGateConfig(type="motion"), _decoded(clip.path)))
    for start, end in clip.moving:
        assert {start, start + 1} & opened, f"the moving stretch from frame {start} did not open the gate"
        assert len(opened & set(range(start, end))) >= end - start - 1
    assert opened & _still(clip) <= _cuts(clip)


def _still(clip: Clip) -> set[int]:
    return set(range(clip.frames)) - {i for start, end in clip.moving for i in range(start, end)}


def _cuts(clip: Clip) -> set[int]:
    """The first frame, and each cut to the next photo: the gate opens on them (the picture changed)."""
    return {0} | {end for _start, end in clip.moving if end < clip.frames}


def _decoded(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    decoded = []
    while (read := cap.read())[0]:
        decoded.append(read[1])
    cap.release()
    return decoded


def _zone_video(path: Path) -> list[np.ndarray]:
    """Coffee, still; for frames 10-19 a thumbnail of the astronaut slides down the right third."""
    background = cv2.resize(photo("coffee"), (300, 200))
    thumb = cv2.resize(photo("astronaut"), (50, 50))
    frames = []
    for i in range(30):
        image = background.copy()
        y = 10 + 12 * min(max(i - 9, 0), 10)
        image[y : y + 50, 230:280] = thumb
        frames.append(image)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (300, 200))
    for image in frames:
        writer.write(image)
    writer.release()
    return _decoded(path)


def _opened(config: MotionGateConfig, frames: list[np.ndarray]) -> list[int]:
    gate = MotionGate(config, "zones")
    return [i for i, image in enumerate(frames) if gate.opens(Frame("zones", i, 0.0, 0.0, image), i / 10)]


def test_zones_and_masks_are_honoured(tmp_path: Path) -> None:
    frames = _zone_video(tmp_path / "zones.mp4")
    assert len(frames) == 30
    everywhere = _opened(MotionGateConfig(type="motion"), frames)
    assert everywhere == [0, *range(10, 20)]
    left = [(0.0, 0.0), (0.6, 0.0), (0.6, 1.0), (0.0, 1.0)]
    right = [(0.7, 0.0), (1.0, 0.0), (1.0, 1.0), (0.7, 1.0)]
    assert _opened(MotionGateConfig(type="motion", zones=[left]), frames) == [0]
    assert _opened(MotionGateConfig(type="motion", zones=[right]), frames) == everywhere
    assert _opened(MotionGateConfig(type="motion", mask=[right]), frames) == [0]
    with_interval = _opened(MotionGateConfig(type="motion", zones=[left], interval="1s"), frames)
    assert with_interval == [0, 10, 20]  # no motion in the zone: still once a second (frames at 10 fps)


class _Broken(Gate):
    def opens(self, frame: Frame, now: float) -> bool:
        raise RuntimeError("camera gone odd")


def test_a_failing_gate_lets_frames_through_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    gate, stats = _Broken("broken", "porch"), StreamStats("porch")
    frame = Frame("porch", 0, 0.0, 0.0, np.zeros((8, 8, 3), np.uint8))
    assert all(check_gates([gate], frame, stats) for _ in range(5))
    assert gate.errors == 5
    assert stats.gate_cost.count == 5
    assert len([r for r in caplog.records if "camera gone odd" in r.getMessage()]) == 1  # not one per frame
