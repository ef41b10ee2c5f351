"""Helpers of the cloud-link tests: the `edge-cloud listen` subprocess, envelopes, an uplink run in a thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

from cloud_sync.envelope import Envelope

ROOT = Path(__file__).resolve().parents[2]
EDGE_CLOUD = [sys.executable, "-m", "cloud_sync"]


def envelope(seq: int, stream: str = "porch", device: str = "dev1", boot_id: str = "boot-a", kind: str = "detections",
             **extra: Any) -> Envelope:
    """A small result envelope (about 165 bytes encoded); `extra` may add or override fields (even break them)."""
    env: dict[str, Any] = {
        "device": device, "stream": stream, "seq": seq, "boot_id": boot_id,
        "ts_capture": 1763856000.123, "ts_result": 1763856000.171, "kind": kind,
        "payload": {"detections": [{"label": "face", "score": 0.93, "box": [0.35, 0.16, 0.53, 0.34]}]},
    }
    env.update(extra)
    return cast(Envelope, env)


class Listener:
    """`edge-cloud listen` as a real subprocess; `stop()` sends SIGTERM and returns the JSON report."""

    def __init__(self, workdir: Path, *args: str, name: str = "listen") -> None:
        self.out = workdir / f"{name}.jsonl"
        self.report_path = workdir / f"{name}-report.json"
        self.stderr_path = workdir / f"{name}.stderr"
        self.args = [*args, "--out", str(self.out), "--report", str(self.report_path)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_ready: bool = True) -> Listener:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen([*EDGE_CLOUD, "listen", *self.args], stderr=err, stdout=subprocess.DEVNULL,
                                         env=env, cwd=ROOT)
        if wait_ready:
            self.wait_for("edge-cloud listen: ")
        return self

    def wait_for(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"listener exited {self.proc.returncode}: {self.stderr()}")
            time.sleep(0.05)
        raise AssertionError(f"listener never said {text!r}: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> dict[str, Any]:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=10)
        return json.loads(self.report_path.read_text()) if self.report_path.exists() else {}

    def received(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]

    def wait_count(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        got = self.received()
        while len(got) < n and time.monotonic() < deadline:
            time.sleep(0.1)
            got = self.received()
        return got


def seqs_by_stream(envelopes: list[dict[str, Any]]) -> dict[tuple[str, str], list[int]]:
    """(boot_id, stream) -> seqs in arrival order."""
    out: dict[tuple[str, str], list[int]] = {}
    for env in envelopes:
        out.setdefault((env["boot_id"], env["stream"]), []).append(env["seq"])
    return out

