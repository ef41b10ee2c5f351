"""File sources: a video file (real mp4 written by OpenCV) and a directory or glob of images."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import TypeAdapter

from edge_runtime.drops import FPS_CAP, DropCounter
from edge_runtime.sources import (
    UNREADABLE,
    ImagesSourceConfig,
    SourceConfig,
    SourceError,
    VideoSourceConfig,
    build_source,
)
from tests.sources._harness import Harness, capture_threads

ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
VIDEO_FRAMES = 20
VIDEO_FPS = 20.0


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """20 frames at 20 fps; frame i is filled with gray level 10*i + 20, so a frame's index can be read back."""
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), VIDEO_FPS, (64, 48))
    assert writer.isOpened()
    for i in range(VIDEO_FRAMES):
        writer.write(np.full((48, 64, 3), 10 * i + 20, dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for i in (1, 2, 10, 3):  # natural order: 1, 2, 3, 10
        cv2.imwrite(str(folder / f"img{i}.png"), np.full((24, 32, 3), i, dtype=np.uint8))
    (folder / "notes.txt").write_text("not an image")
    return folder


def run(source_config: dict[str, object], base_dir: Path, consume_s: float = 0.0, timeout: float = 15) -> Harness:
    """Run a finite source to its end and return what the consumer got."""
    drops = DropCounter()
    source = build_source(ADAPTER.validate_python(source_config), "files", drops, base_dir)
    harness = Harness(source, drops, consume_s)

    async def scenario() -> None:
        async with harness:
            await harness.finish(timeout)

    asyncio.run(scenario())
    assert capture_threads("files") == []
    return harness


def gray_index(image: np.ndarray) -> int:
    return round((float(image.mean()) - 20) / 10)


def test_video_frame_by_frame_delivers_every_frame_in_order(video: Path) -> None:
    harness = run({"type": "video", "path": "clip.mp4", "realtime": False}, video.parent, consume_s=0.005)
    frames = harness.frames
    assert [f.seq for f in frames] == list(range(VIDEO_FRAMES))
    assert [f.frame for f in frames] == list(range(VIDEO_FRAMES))
    assert [gray_index(f.image) for f in frames] == list(range(VIDEO_FRAMES))
    assert {f.source for f in frames} == {"clip.mp4"}
    assert {f.stream for f in frames} == {"files"}
    assert harness.drops.total == 0
    assert harness.source.status().items == VIDEO_FRAMES


def test_video_realtime_plays_at_the_file_rate(video: Path) -> None:
    harness = run({"type": "video", "path": str(video), "realtime": True}, Path("/"))
    span = harness.arrivals[-1] - harness.arrivals[0]
    capture_span = harness.frames[-1].t_capture - harness.frames[0].t_capture
    print(f"realtime: {len(harness.frames)} frames over {capture_span:.3f} s (file: {VIDEO_FRAMES / VIDEO_FPS:.2f} s)")
    assert capture_span >= 0.8 * (VIDEO_FRAMES - 1) / VIDEO_FPS  # not faster than the file
    assert span < 5 * (VIDEO_FRAMES - 1) / VIDEO_FPS  # and not stuck
    indexes = [-1 if f.frame is None else f.frame for f in harness.frames]
    assert indexes == sorted(indexes)
    assert indexes[-1] == VIDEO_FRAMES - 1


def test_video_realtime_fps_cap_skips_and_counts(video: Path) -> None:
    harness = run({"type": "video", "path": "clip.mp4", "fps": 5}, video.parent)
    skipped = harness.drops.snapshot().get(FPS_CAP, 0)
    print(f"fps cap 5 on a 20 fps file: {len(harness.frames)} delivered, {skipped} skipped")
    assert skipped + harness.source.status().items == VIDEO_FRAMES
    assert 3 <= len(harness.frames) <= 8  # one second of video at 5 fps
    assert [gray_index(f.image) for f in harness.frames] == [f.frame for f in harness.frames]


def test_video_loop_restarts_frame_index_and_keeps_seq(video: Path) -> None:
    drops = DropCounter()
    config = VideoSourceConfig(type="video", path=str(video), realtime=False, loop=True)
    harness = Harness(build_source(config, "loop", drops, Path("/")), drops)

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("two passes and a bit", lambda: len(harness.frames) >= 45, timeout=15)

    asyncio.run(scenario())
    frames = harness.frames[:45]
    assert [f.seq for f in frames] == list(range(45))
    assert [f.frame for f in frames] == [i % VIDEO_FRAMES for i in range(45)]
    assert capture_threads("loop") == []


def test_missing_video_is_a_clear_error(tmp_path: Path) -> None:
    config = VideoSourceConfig(type="video", path="nope.mp4")
    with pytest.raises(SourceError, match=r"stream 'cam' video: no such video file: .*nope\.mp4"):
        build_source(config, "cam", DropCounter(), tmp_path)


def test_undecodable_video_raises_out_of_run(tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"this is no video")
    with pytest.raises(SourceError, match=r"stream 'files' video: cannot decode broken\.mp4"):
        run({"type": "video", "path": "broken.mp4"}, tmp_path)


def test_images_directory_in_natural_order_paced_at_fps(images: Path) -> None:
    harness = run({"type": "images", "path": "images", "fps": 20}, images.parent)
    frames = harness.frames
    assert [f.source for f in frames] == ["images/img1.png", "images/img2.png", "images/img3.png", "images/img10.png"]
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 3, 10]
    assert [f.frame for f in frames] == [0, 1, 2, 3]
    assert [f.seq for f in frames] == [0, 1, 2, 3]
    span = frames[-1].t_capture - frames[0].t_capture
    assert span >= 0.8 * 3 / 20  # paced, not all at once


def test_images_glob_loop_and_unsorted(images: Path) -> None:
    harness = run({"type": "images", "path": "images/img1*.png", "fps": 100}, images.parent)
    assert [f.source for f in harness.frames] == ["images/img1.png", "images/img10.png"]

    unsorted = run({"type": "images", "path": ".", "fps": 100, "sort": False}, images)
    assert sorted(f.source or "" for f in unsorted.frames) == sorted(p.name for p in images.glob("*.png"))

    drops = DropCounter()
    config = ImagesSourceConfig(type="images", path="images/*.png", fps=200, loop=True)
    looping = Harness(build_source(config, "loop", drops, images.parent), drops)

    async def scenario() -> None:
        async with looping:
            await looping.wait_for("three passes", lambda: len(looping.frames) >= 10, timeout=10)

    asyncio.run(scenario())
    assert [f.frame for f in looping.frames[:10]] == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert [f.seq for f in looping.frames[:10]] == list(range(10))


def test_unreadable_image_is_counted_and_skipped(images: Path) -> None:
    (images / "img4.png").write_bytes(b"not a png")
    harness = run({"type": "images", "path": "images", "fps": 100}, images.parent)
    assert [f.source for f in harness.frames] == [
        "images/img1.png", "images/img2.png", "images/img3.png", "images/img10.png"
    ]  # fmt: skip
    assert [f.frame for f in harness.frames] == [0, 1, 2, 4]  # the index in the list, the bad file included
    assert harness.drops.snapshot() == {UNREADABLE: 1}
    assert "img4.png" in (harness.source.status().last_error or "")


def test_images_matching_nothing_is_a_clear_error(tmp_path: Path) -> None:
    config = ImagesSourceConfig(type="images", path="frames/*.jpg")
    with pytest.raises(SourceError, match=r"stream 'cam' images: no image files match 'frames/\*\.jpg'"):
        build_source(config, "cam", DropCounter(), tmp_path)
