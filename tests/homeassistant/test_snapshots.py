"""Snapshots on a real mosquitto: the astronaut's snapshot is a JPEG with the face box drawn where the detector
said; a flood of alerts (one every frame at 30 fps) still delivers every result first, and the snapshots over
their cap are dropped and counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.homeassistant.bridge import HomeAssistantBridge
from edge_runtime.imaging import BOX_COLOUR, pixel_box
from edge_runtime.reload import Reloader
from edge_runtime.sinks.memory import MemorySink
from tests.homeassistant.support import (
    DEVICE,
    REQUIRED,
    device_config,
    eventually,
    home_assistant,
    running,
    write_photos,
)
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
TRACKER = "      - {type: tracker, min_hits: 1}\n"
ALERT_EVERY_FRAME = "      - {type: threshold, label: face, min_count: 1, cooldown_s: 0}\n"


def green(pixels: np.ndarray) -> np.ndarray:
    """Which BGR pixels are close to the box colour."""
    close: np.ndarray = np.all(np.abs(pixels.astype(int) - np.array(BOX_COLOUR)) < 60, axis=-1)
    return close


def test_the_astronaut_snapshot_shows_the_face_box_where_the_detector_said(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    write_photos(tmp_path / "photos", ["01-astronaut.png"])
    ha = "{snapshots: {streams: [porch], keep: 3}}"
    cfg = device_config(tmp_path, mosquitto.port, {"porch": "photos"}, ha, stages=TRACKER)
    asyncio.run(astronaut(tmp_path, cfg, mosquitto.port))


async def astronaut(tmp_path: Path, cfg: Path, port: int) -> None:
    topic = f"edge/{DEVICE}/porch/snapshot"
    async with home_assistant(port) as view, running(cfg) as (runtime, _):
        await eventually(lambda: view.latest(topic) is not None, 10, "a snapshot")
        image_config = view.current()[f"homeassistant/image/{DEVICE}/porch_snapshot/config"]
        assert REQUIRED["image"] <= image_config.keys()
        assert image_config["image_topic"] == topic
        results = next(s for s in runtime.sinks if isinstance(s, MemorySink))
        detections = next(e for e in results.envelopes if e["kind"] == "detections")["payload"]["detections"]
    jpeg = view.latest(topic) or b""
    assert jpeg[:2] == b"\xff\xd8"  # a JPEG
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imread(str(tmp_path / "photos" / "000.png"))
    assert picture is not None
    assert original is not None
    assert picture.shape == original.shape
    assert len(detections) == 1
    h, w = picture.shape[:2]
    x0, y0, x1, y1 = pixel_box(detections[0]["box"], w, h)
    edges = np.concatenate([picture[y1, x0 : x1 + 1], picture[y0 : y1 + 1, x0], picture[y0 : y1 + 1, x1]])
    assert green(edges).mean() > 0.9  # the box is drawn on the detector's box
    unchanged = np.concatenate([original[y1, x0 : x1 + 1], original[y0 : y1 + 1, x0], original[y0 : y1 + 1, x1]])
    assert green(unchanged).mean() < 0.1  # (the photo itself is not green there)
    inside = picture[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8]
    assert green(inside).mean() < 0.1  # only the outline is drawn
    saved = sorted((tmp_path / "var" / "snapshots" / "porch").glob("*.jpg"))
    assert 1 <= len(saved) <= 3


def test_a_snapshot_flood_never_goes_ahead_of_results_and_its_overflow_is_counted(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    write_photos(tmp_path / "photos", ["01-astronaut.png", "03-astronaut-mirrored.png"])
    ha = "{snapshots: {streams: [porch], queue: 1, min_interval_s: 0.25, keep: 5, keep_bytes: 100KiB}}"
    cfg = device_config(tmp_path, mosquitto.port, {"porch": "photos"}, ha, fps=30, stages=ALERT_EVERY_FRAME)
    asyncio.run(flood(tmp_path, cfg, mosquitto.port))


async def flood(tmp_path: Path, cfg: Path, port: int) -> None:
    snapshot = f"edge/{DEVICE}/porch/snapshot"
    async with probe(port, f"edge/{DEVICE}/results/#", f"edge/{DEVICE}/events/#", snapshot) as wire:
        async with running(cfg) as (runtime, _):
            began = asyncio.get_running_loop().time()
            stats = runtime.streams[0].runner.stats
            await eventually(lambda: stats.completed >= 60, 30, "60 frames")  # 2 s at 30 fps on a quiet machine
            elapsed = asyncio.get_running_loop().time() - began
        # stopped: the streams drained, the uplink sent what it had before closing
        bridge = next(s for s in runtime.sinks if isinstance(s, HomeAssistantBridge))
        results = next(s for s in runtime.sinks if isinstance(s, MemorySink))
        sent = [e for e in results.envelopes if e["kind"] in ("detections", "alert")]
        await eventually(lambda: len(wire.received()) >= len(sent), 10, "every result and alert on the wire")
    order = [m.topic for m in wire.received()]
    alerts = sum(1 for e in sent if e["kind"] == "alert")
    assert alerts == stats.completed  # a face in every frame: an alert every frame
    assert sum(1 for t in order if t.startswith(f"edge/{DEVICE}/results/")) == stats.completed  # none lost
    snapshots = [i for i, t in enumerate(order) if t == snapshot]
    assert snapshots  # some were taken
    for k, index in enumerate(snapshots, start=1):  # each after the alert that caused it, never ahead
        assert sum(1 for t in order[:index] if t.startswith(f"edge/{DEVICE}/events/")) >= k
    dropped = bridge.snapshots.drops.snapshot()
    assert dropped.get("rate_cap", 0) >= alerts - (elapsed + 3) / 0.25  # over the cap: dropped and counted
    superseded = dropped.pop("superseded", 0)  # rendered, then replaced by a newer one before it could go
    assert bridge.snapshots.taken + sum(dropped.values()) == alerts  # every alert: a snapshot or a counted drop
    assert 1 <= len(snapshots) <= bridge.snapshots.taken - superseded  # the last may still wait at the stop
    kept = list((tmp_path / "var" / "snapshots" / "porch").glob("*.jpg"))
    assert 1 <= len(kept) <= 5  # retention by count
    assert sum(p.stat().st_size for p in kept) <= 100 * 1024  # and by bytes


def test_a_stream_a_reload_adds_to_the_snapshot_streams_takes_snapshots(tmp_path: Path, mosquitto: Mosquitto) -> None:
    asyncio.run(reload_snapshots(tmp_path, mosquitto.port))


async def reload_snapshots(tmp_path: Path, port: int) -> None:
    write_photos(tmp_path / "photos", ["01-astronaut.png"])
    cfg = device_config(tmp_path, port, {"porch": "photos"}, "{}", stages=TRACKER)
    runtime, _service = build_runtime(load_config(cfg), cfg.parent, display="off", config_path=cfg)
    reloader: Reloader = runtime.background["reload"].__self__  # type: ignore[attr-defined]
    task = asyncio.create_task(runtime.run())
    image = f"homeassistant/image/{DEVICE}/garden_snapshot/config"
    try:
        async with home_assistant(port) as view:
            await eventually(lambda: f"homeassistant/sensor/{DEVICE}/porch_fps/config" in view.current(), 10, "up")
            assert image not in view.current()
            ha = "{snapshots: {streams: [garden]}}"
            device_config(tmp_path, port, {"porch": "photos", "garden": "photos"}, ha, stages=TRACKER)
            assert await asyncio.wait_for(reloader.reload(), 20) == []
            await eventually(lambda: image in view.current(), 10, "garden's image entity announced")
            topic = f"edge/{DEVICE}/garden/snapshot"
            await eventually(lambda: view.latest(topic) is not None, 10, "garden's snapshot")
            assert (view.latest(topic) or b"")[:2] == b"\xff\xd8"
            assert view.latest(f"edge/{DEVICE}/porch/snapshot") is None  # porch is not listed
    finally:
        runtime.stop()
        await asyncio.wait_for(task, 15)
    assert list((tmp_path / "var" / "snapshots" / "garden").glob("*.jpg"))
