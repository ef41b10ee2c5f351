"""A real `edge-runtime` process serving HTTP on a free loopback port, for the console/metrics/health tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.demo import write_demo_images, write_demo_video
from tests.support.ports import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "var" / "demo"
FACES = f"""\
models:
  faces:
    path: {ROOT}/var/models/face_detection_short_range.tflite
    labels: [face]
    decoder: {{type: blazeface}}
"""
HTTP = 'http: {listen: "127.0.0.1:${env:EDGE_HTTP_PORT,8080}"}\n'


def ticks_config(device: str, fps: float = 5) -> str:
    """A config with one sensor stream of `fps` readings a second (no model), without its `http:` section."""
    source = f"{{type: synthetic, kind: readings, fps: {fps:g}}}"
    return f"device: {{id: {device}}}\nstreams:\n  ticks:\n    source: {source}\n    sinks: []\n"


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path.lstrip("/"))
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def status(self) -> dict[str, Any]:
        code, body = self.get("api/status")
        assert code == 200, body
        result: dict[str, Any] = json.loads(body)
        return result

    def stream(self, name: str) -> dict[str, Any]:
        return next(s for s in self.status()["streams"] if s["name"] == name)


def demo_config(tmp_path: Path) -> Path:
    """configs/demo.yaml with its inputs in var/demo (written if missing) and its results under tmp_path."""
    write_demo_images(DEMO_DIR / "images")
    write_demo_video(DEMO_DIR / "pan.avi")
    text = (ROOT / "configs" / "demo.yaml").read_text()
    text = text.replace("../var/demo/results.jsonl", str(tmp_path / "results.jsonl")).replace("../var/", f"{ROOT}/var/")
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return path


@contextmanager
def serve(
    config: Path,
    port: int | None = None,
    ready_timeout: float = 60.0,
    ready_path_token: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """Run `edge-runtime --config CONFIG` with EDGE_HTTP_PORT set; yield once /readyz answers 200."""
    port = port or free_port()
    log = config.with_suffix(".log")
    env = {**os.environ, "EDGE_HTTP_PORT": str(port), "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_runtime", "--config", str(config), "--display", "log"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
    served = Served(proc, port, log)
    try:
        what = f"runtime ready on {served.url} (log {log})"
        wait_until(lambda: _ready(served, ready_path_token), ready_timeout, what)
        yield served
    finally:
        stop_process(proc, signal.SIGTERM, timeout=15)


def _ready(served: Served, token: str | None) -> bool:
    if served.proc.poll() is not None:
        raise AssertionError(f"runtime exited: {served.log.read_text()[-2000:]}")
    try:
        return served.get("readyz", token)[0] == 200
    except OSError:
        return False


def wait_until(check: Any, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
