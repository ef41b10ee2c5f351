"""The console in a real headless Chromium, frames as JPEG, and /metrics through promtool, on the demo config."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.http.support import ROOT, Served, demo_config, serve, wait_until

SCREENSHOT = ROOT / "var" / "console.png"
STREAMS = ("photos", "pan", "temperature")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(demo_config(tmp_path_factory.mktemp("demo"))) as served:
        wait_until(lambda: all(served.stream(s)["fps_now"] > 0 for s in STREAMS), 30, "results on every stream")
        yield served


def chromium(*args: str) -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is missing: scripts/setup.sh --test installs it"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=6000"]
    done = subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_console_page_shows_every_stream_live(demo: Served) -> None:
    dom = chromium("--dump-dom", demo.url)
    for name in STREAMS:
        tile = re.search(rf'<article class="tile" data-stream="{name}">(.*?)</article>', dom, re.S)
        assert tile, f"no tile for {name} in the page"
        assert f'<span class="name">{name}</span>' in tile.group(1)
        figures = {label: value for value, label in re.findall(r"<b>([^<]*)</b><span>([^<]*)</span>", tile.group(1))}
        assert int(figures["results"]) > 0, figures
        assert float(figures["fps (10 s)"]) > 0, figures
        assert float(figures["p99 ms"]) >= 0, figures
    photos = re.search(r'data-stream="photos">.*?<img ([^>]*)>', dom, re.S)
    assert photos, "no frame image in the photos tile"
    assert re.search(r'data-loads="[1-9]', photos.group(1)), "the frame image never decoded in the page"
    assert "model faces v1" in dom
    assert re.search(r"<polyline points=", dom), "no sparkline for the sensor stream"
    assert "lane-0" in dom


def test_console_screenshot_for_a_person(demo: Served) -> None:
    SCREENSHOT.unlink(missing_ok=True)
    chromium(f"--screenshot={SCREENSHOT}", "--window-size=1280,1000", demo.url)
    image = cv2.imread(str(SCREENSHOT))
    assert image is not None
    assert image.shape[:2] == (1000, 1280)
    assert image.std() > 20, "the screenshot is blank"


def _frame(demo: Served, stream: str) -> np.ndarray:
    code, body = demo.get(f"streams/{stream}/latest.jpg")
    assert code == 200
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG"
    return np.asarray(image)


def test_latest_frame_decodes_and_moves(demo: Served) -> None:
    first = _frame(demo, "pan")
    time.sleep(0.5)
    second = _frame(demo, "pan")
    assert first.shape == second.shape == (240, 320, 3)
    assert float(np.abs(first.astype(np.int16) - second).mean()) > 1.0, "the frame did not change"
    assert demo.get("streams/temperature/latest.jpg")[0] == 404  # a sensor stream has no frames
    assert demo.get("streams/nope/latest.jpg")[0] == 404


def test_mjpeg_serves_jpeg_parts(demo: Served) -> None:
    import urllib.request

    with urllib.request.urlopen(demo.url + "streams/pan/mjpeg", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        data = b""
        while data.count(b"--frame") < 3:
            data += response.read1(65536)
    part = data.split(b"\r\n\r\n", 1)[1]
    image = cv2.imdecode(np.frombuffer(part[: part.index(b"\r\n--frame")], np.uint8), cv2.IMREAD_COLOR)
    assert image is not None


def test_metrics_pass_promtool(demo: Served, tmp_path: Path) -> None:
    code, body = demo.get("metrics")
    assert code == 200
    text = body.decode()
    for name in ("edge_stream_frames_total", "edge_stream_drops_total", "edge_stream_latency_seconds_bucket",
                 "edge_lane_busy_ratio", "edge_model_info", "edge_process_cpu_seconds_total",
                 'outcome="gated"', "edge_stream_gate_seconds", "edge_cascade_crops_total"):  # fmt: skip
        assert name in text, name
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/setup.sh --test installs prometheus"
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert demo.get("healthz") == (200, b"ok\n")
