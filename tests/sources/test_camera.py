"""The camera source against real cameras on loopback: ffmpeg's HTTP MJPEG and a GStreamer RTSP server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_runtime.drops import FPS_CAP, DropCounter
from edge_runtime.sources import STALL, CameraSourceConfig, build_source
from tests.sources._harness import Harness, capture_threads
from tests.support.mjpeg import MjpegServer
from tests.support.ports import free_port
from tests.support.rtsp import RtspServer

FAST_RETRY = {"backoff_initial": 0.1, "backoff_max": 1.0, "stall_timeout": 2.0, "open_timeout": 3.0}


def camera(url: str | int, stream: str, **options: object) -> tuple[Harness, DropCounter]:
    drops = DropCounter()
    config = CameraSourceConfig.model_validate({"type": "camera", "url": url, **FAST_RETRY, **options})
    return Harness(build_source(config, stream, drops, Path.cwd()), drops), drops


async def outage_and_recovery(server: MjpegServer | RtspServer, stream: str, **options: object) -> DropCounter:
    """Frames flow; the server dies and nothing crashes; it comes back and frames flow within 5 s."""
    harness, drops = camera(server.url, stream, **options)
    async with harness:
        await harness.wait_for("first frames", lambda: len(harness.frames) >= 5, timeout=15)
        assert harness.source.status().connected
        server.stop()
        await harness.wait_for("disconnect noticed", lambda: not harness.source.status().connected, timeout=10)
        await asyncio.sleep(0.3)
        seen = len(harness.frames)
        await asyncio.sleep(0.5)
        assert len(harness.frames) == seen, "frames while the server is down"
        assert harness.task is not None
        assert not harness.task.done()  # the source lives on, retrying
        server.start()
        await harness.wait_for("frames after restart", lambda: len(harness.frames) >= seen + 3, timeout=5)
        status = harness.source.status()
        assert status.connected
        assert status.reconnects >= 1
        assert status.last_error
    seqs = [frame.seq for frame in harness.frames]
    assert seqs == sorted(set(seqs)), "seq must increase across reconnects"
    assert all(frame.image.shape == (240, 320, 3) for frame in harness.frames)
    assert capture_threads(stream) == []
    return drops


@pytest.mark.video
def test_mjpeg_camera_survives_server_restart() -> None:
    server = MjpegServer(fps=15)
    server.start()
    try:
        drops = asyncio.run(outage_and_recovery(server, "mjpeg", fps=10))
    finally:
        server.stop()
    assert drops.snapshot().get(FPS_CAP, 0) > 0  # 15 fps in, capped at 10


@pytest.mark.video
def test_rtsp_camera_over_tcp_survives_server_restart() -> None:
    server = RtspServer(fps=15)  # offers RTP over TCP only
    server.start()
    try:
        asyncio.run(outage_and_recovery(server, "rtsp"))
    finally:
        server.stop()


@pytest.mark.video
def test_stalled_camera_is_dropped_by_the_watchdog_and_reconnected() -> None:
    server = MjpegServer(fps=15)
    server.start()

    async def scenario() -> None:
        harness, drops = camera(server.url, "stall", stall_timeout=1.0)
        async with harness:
            await harness.wait_for("first frames", lambda: len(harness.frames) >= 3, timeout=10)
            server.pause()  # connected, but silent
            took = await harness.wait_for("stall counted", lambda: drops.snapshot().get(STALL, 0) >= 1, timeout=10)
            assert took >= 0.5  # not before the watchdog's timeout (1 s, minus frames already buffered)
            assert (harness.source.status().last_error or "").startswith("stalled")
            seen = len(harness.frames)
            server.resume()
            await harness.wait_for("frames after the stall", lambda: len(harness.frames) >= seen + 3, timeout=5)
            assert harness.source.status().reconnects >= 1

    try:
        asyncio.run(scenario())
    finally:
        server.resume()
        server.stop()


@pytest.mark.parametrize("url", ["/dev/video9", f"http://127.0.0.1:{free_port()}/cam.mjpg"])
def test_dead_camera_keeps_retrying_and_reports(url: str) -> None:
    async def scenario() -> None:
        harness, _ = camera(url, "dead", backoff_initial=0.05, backoff_max=0.2)
        async with harness:
            await harness.wait_for("three retries", lambda: harness.source.status().reconnects >= 3, timeout=10)
            assert harness.task is not None
            assert not harness.task.done()
            status = harness.source.status()
            assert not status.connected
            assert status.items == 0
            assert status.last_error == "cannot open"
        assert capture_threads("dead") == []

    asyncio.run(scenario())


def test_camera_on_a_video_file_plays_it_live_and_reopens_at_its_end(tmp_path: Path) -> None:
    writer = cv2.VideoWriter(str(tmp_path / "clip.mp4"), cv2.VideoWriter.fourcc(*"mp4v"), 20.0, (64, 48))
    for i in range(10):
        writer.write(np.full((48, 64, 3), 20 * i, dtype=np.uint8))
    writer.release()
    drops = DropCounter()
    config = CameraSourceConfig.model_validate({"type": "camera", "url": "clip.mp4", **FAST_RETRY})
    harness = Harness(build_source(config, "file", drops, tmp_path), drops)

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("past the end of the file", lambda: len(harness.frames) >= 15, timeout=10)

    asyncio.run(scenario())
    frames = harness.frames
    assert frames[9].t_capture - frames[0].t_capture >= 0.8 * 9 / 20  # at the file's own rate
    assert harness.source.status().reconnects >= 1
    assert harness.source.status().last_error == "stream ended"
    assert [f.seq for f in frames] == list(range(len(frames)))
