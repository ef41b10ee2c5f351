"""Tracker ids on the console's frames: a real runtime process, the face detector on the demo's panning video,
one stream with a tracker and one without; the tracked stream's JPEG carries the magenta track box and id."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_runtime.demo import write_demo_video
from edge_runtime.http._frames import TRACK_COLOUR
from tests.http.support import DEMO_DIR, FACES, HTTP, Served, serve, wait_until

VIDEO = DEMO_DIR / "pan.avi"


def config_text(tmp_path: Path) -> str:
    detect = "{type: infer, model: faces}, {type: filter, name: confident, min_score: 0.6}"
    streams = "".join(
        f"  {name}:\n    source: {{type: video, path: {VIDEO}, loop: true, fps: 15}}\n"
        f"    pipeline: [{detect}{extra}]\n    sinks: []\n"
        for name, extra in (("plain", ""), ("tracked", ", {type: tracker, min_hits: 1, max_missed: 30}"))
    )
    return f"device: {{id: tracks-01}}\n{FACES}streams:\n{streams}status: {{display: off}}\n{HTTP}"


def track_pixels(runtime: Served, stream: str) -> int:
    """Pixels of the frame near the track colour (a natural scene has almost none)."""
    code, body = runtime.get(f"streams/{stream}/latest.jpg")
    assert code == 200, body
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG"
    near = np.abs(image.astype(np.int16) - np.array(TRACK_COLOUR, np.int16)).max(axis=2) < 70
    return int(near.sum())


def test_the_tracked_streams_frame_shows_its_track_ids(tmp_path: Path) -> None:
    write_demo_video(VIDEO)
    config = tmp_path / "tracks.yaml"
    config.write_text(config_text(tmp_path))
    with serve(config) as runtime:
        wait_until(lambda: all(runtime.stream(s)["detections"] for s in ("plain", "tracked")), 30, "faces found")
        counts: dict[str, list[int]] = {"plain": [], "tracked": []}

        def drawn() -> bool:
            for stream, seen in counts.items():
                seen.append(track_pixels(runtime, stream))
            return max(counts["tracked"]) > 100

        wait_until(drawn, 20, "a track box on the tracked stream's frame", every=0.3)
        assert max(counts["plain"]) < 20, counts  # the control: the same video without a tracker
