"""The runtime end to end through its CLI and its public API: real models, real images, real files."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import MemorySink
from tests.scheduler.jobs import SleepModel
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_uint8.tflite"
LABELS = ROOT / "models" / "digits_labels.txt"
RUNTIME_THREADS = ("capture:", "lane-", "sink:")


def digits_config(tmp_path: Path, source: str, sinks: str = "[out]", extra: str = "") -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        f"""\
device: {{id: test-01}}
accelerator: {{threads: 1}}
models:
  digits:
    path: {DIGITS}
    labels: {LABELS}
    decoder: {{type: classification, top_k: 1}}
streams:
  digits:
    source: {source}
    priority: high
    pipeline:
      - {{type: infer, model: digits}}
    sinks: {sinks}
sinks:
  out: {{type: jsonl, path: {tmp_path / "out.jsonl"}}}
  mem: {{type: memory}}
status: {{display: log}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
{extra}"""
    )
    return path


def write_digits(directory: Path) -> np.ndarray:
    data = np.load(ROOT / "models" / "digits_test.npz")
    directory.mkdir()
    for i, image in enumerate(data["X_test"]):
        cv2.imwrite(str(directory / f"{i:04d}.png"), cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_GRAY2BGR))
    return np.asarray(data["y_test"])


def test_held_out_digits_through_the_runtime(tmp_path: Path) -> None:
    """Images source -> scheduler -> uint8 model -> classification decoder -> JSONL, checked for accuracy."""
    labels = write_digits(tmp_path / "digits")
    recorded = json.loads((ROOT / "models" / "digits_uint8.json").read_text())["test_accuracy"]
    cfg = digits_config(tmp_path, f"{{type: images, path: {tmp_path / 'digits'}, fps: 400}}")
    proc = subprocess.run(
        [sys.executable, "-m", "edge_runtime", "--config", str(cfg)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(results) == len(labels)
    correct = 0
    for env in results:
        index = int(Path(env["source"]).stem)
        assert env["kind"] == "classification"
        assert env["model"]["name"] == "digits"
        correct += int(env["payload"]["classes"][0]["label"]) == int(labels[index])
    accuracy = correct / len(labels)
    assert accuracy >= 0.95
    assert abs(accuracy - recorded) <= 0.01


def test_sigterm_drains_and_exits_zero(tmp_path: Path) -> None:
    cfg = digits_config(tmp_path, "{type: synthetic, fps: 200, width: 64, height: 64}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = tmp_path / "out.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 6000):
        time.sleep(0.1)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert time.monotonic() - sent < 5.0
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    lines = out.read_text().splitlines()
    assert len(lines) > 10
    seqs = [json.loads(line)["seq"] for line in lines]  # every line is complete JSON
    assert seqs == sorted(seqs)


def test_duration_stops_cleanly_with_no_thread_left(tmp_path: Path) -> None:
    cfg = digits_config(tmp_path, "{type: synthetic, fps: 100, width: 32, height: 32}", sinks="[out, mem]")
    config = load_config(cfg)
    runtime, _service = build_runtime(config, cfg.parent, display="off")
    memory = next(s for s in runtime.sinks if s.name == "mem")
    assert isinstance(memory, MemorySink)
    started = time.monotonic()
    asyncio.run(runtime.run(duration=1.5))
    assert time.monotonic() - started < 1.5 + 5.0
    left = [t.name for t in threading.enumerate() if t.name.startswith(RUNTIME_THREADS)]
    assert left == []
    stats = runtime.streams[0].runner.stats
    assert len(memory.envelopes) == stats.completed > 50
    assert stats.offered == stats.completed + stats.drops.total - stats.drops.snapshot().get("fps_cap", 0)
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == stats.completed


def test_missing_model_file_is_one_line(tmp_path: Path) -> None:
    cfg = digits_config(tmp_path, "{type: synthetic, fps: 5}")
    cfg.write_text(cfg.read_text().replace(str(DIGITS), str(tmp_path / "gone.tflite")))
    proc = subprocess.run(
        [sys.executable, "-m", "edge_runtime", "--config", str(cfg)], check=False, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "gone.tflite" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_config_finds_the_face(tmp_path: Path) -> None:
    """configs/demo.yaml as a user runs it: astronaut has a face (and its landmarks), coffee has none; the panning
    video finds the person; the sensor stream makes windows."""
    env = {**os.environ, "EDGE_HTTP_PORT": str(free_port())}
    demo_images = ROOT / "var" / "demo" / "images"
    subprocess.run([sys.executable, "-m", "edge_runtime.demo", str(demo_images)], check=True)
    subprocess.run([sys.executable, "-m", "edge_runtime", "models", "fetch"], check=True, env=env)
    results = ROOT / "var" / "demo" / "results.jsonl"
    results.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "edge_runtime", "--config", str(ROOT / "configs" / "demo.yaml"), "--duration", "4"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    by_source: dict[str, int] = {}
    landmarks: dict[str, int] = {}
    kinds: dict[str, set[str]] = {}
    for line in results.read_text().splitlines():
        env_ = json.loads(line)
        kinds.setdefault(env_["stream"], set()).add(env_["kind"])
        if env_["stream"] == "photos":
            by_source[Path(env_["source"]).name] = len(env_["payload"]["detections"])
            for detection in env_["payload"]["detections"]:
                landmarks[Path(env_["source"]).name] = len(detection["sub"]["payload"]["points"])
        elif env_["stream"] == "pan":
            by_source["pan"] = max(by_source.get("pan", 0), len(env_["payload"]["detections"]))
    assert kinds["temperature:avg5s"] == {"window"}, kinds
    assert by_source["pan"] >= 1  # the person crosses the view (motion gate -> person detector)
    assert by_source["01-astronaut.png"] == 1
    assert landmarks["01-astronaut.png"] == 468  # the face stream's cascade: landmarks on the face
    assert by_source["02-coffee.png"] == 0
    assert "[photos] " in proc.stdout


def test_sigterm_while_a_camera_hangs_in_open_exits_within_5s(tmp_path: Path) -> None:
    """An RTSP server that accepts and never answers: the capture thread is stuck in OpenCV's open."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    cfg = tmp_path / "cam.yaml"
    cfg.write_text(
        f"streams:\n  cam:\n    source: {{type: camera, url: 'rtsp://127.0.0.1:{port}/cam', fps: 10}}\n"
        "status: {display: log}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime", "--config", str(cfg)], stderr=subprocess.PIPE, text=True
    )
    try:
        server.settimeout(20)
        held, _ = server.accept()  # the camera is now inside its open
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
        took = time.monotonic() - sent
        held.close()
    finally:
        server.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert took < 5.0, stderr
    assert "Traceback" not in stderr


def test_a_model_stuck_past_the_drain_budget_still_stops_within_5s(tmp_path: Path) -> None:
    """A lane busy for 6 s when the stop comes (a hung accelerator): the runtime gives up on it in time, and
    every frame still ends as completed or a counted drop."""
    cfg = digits_config(tmp_path, "{type: synthetic, fps: 20, width: 32, height: 32}")
    runtime, service = build_runtime(load_config(cfg), cfg.parent, display="off")
    service.set_model("digits", SleepModel(name="digits", seconds=6.0))
    stopped_at: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, lambda: stopped_at.append(time.monotonic()))
        await runtime.run(duration=1.0)

    asyncio.run(main())
    assert time.monotonic() - stopped_at[0] < 5.0
    stats = runtime.streams[0].runner.stats
    drops = stats.drops.snapshot()
    assert drops.get("shutdown", 0) >= 1
    assert stats.offered == stats.completed + stats.drops.total


def test_a_closed_stdout_does_not_stop_the_runtime(tmp_path: Path) -> None:
    """`edge-runtime ... | head -1`: the console sink's pipe closes, the runtime carries on and exits 0."""
    cfg = digits_config(tmp_path, "{type: synthetic, fps: 50, width: 32, height: 32}", sinks="[console, out]")
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime", "--config", str(cfg), "--duration", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("[digits]")
    proc.stdout.close()  # like `head -1` exiting
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) > 50  # the other sink kept going
