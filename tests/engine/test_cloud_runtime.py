"""A device config with a `cloud:` section, run by `edge-runtime`, against a real mosquitto and `edge-cloud`:
results reach `edge-cloud listen`, and a model pushed by `edge-cloud models push` goes live while the stream runs,
all on the device's one connection to the broker."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.sockets import ConnectionSampler, tcp_connections

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_uint8.tflite"
ALT = ROOT / "models" / "test_alt.tflite"

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


def config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "device.yaml"
    path.write_text(
        f"""\
device: {{id: dev-01}}
accelerator: {{threads: 1}}
models:
  digits:
    path: {DIGITS}
    labels: {ROOT / "models" / "digits_labels.txt"}
    decoder: classification
streams:
  digits:
    source: {{type: synthetic, fps: 20, width: 32, height: 32}}
    priority: high
    pipeline: [{{type: infer, model: digits}}]
    sinks: [out, cloud]
sinks:
  out: {{type: jsonl, path: out.jsonl}}
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}, backoff_initial: 0.2, backoff_max: 1}}
  outbox: {{path: outbox.db}}
  models:
    trusted_keys: [keys/fleet.pub]
    dir: store
status: {{display: log}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
"""
    )
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def wait_lines(path: Path, count: int, timeout: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            lines = [json.loads(line) for line in path.read_text().splitlines()]
            if len(lines) >= count:
                return lines
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} lines in {path} after {timeout} s")


def test_results_and_a_pushed_model_share_the_device_s_one_connection(tmp_path: Path, mosquitto: Mosquitto) -> None:
    subprocess.run(cli("cloud_sync", "keys", "generate", str(tmp_path / "keys" / "fleet")), check=True)
    listened = tmp_path / "cloud.jsonl"
    broker = f"127.0.0.1:{mosquitto.port}"
    listener = subprocess.Popen(
        cli("cloud_sync", "listen", "--mqtt", broker, "--out", str(listened)), stderr=subprocess.PIPE, text=True
    )
    assert listener.stderr is not None
    assert "subscribed" in listener.stderr.readline()  # results published from now on reach it
    device = subprocess.Popen(
        cli("edge_runtime", "--config", str(config(tmp_path, mosquitto.port))), stderr=subprocess.PIPE, text=True
    )
    sampler: ConnectionSampler | None = None
    try:
        wait_lines(tmp_path / "out.jsonl", 20, 30)
        sampler = ConnectionSampler(device.pid, mosquitto.port)  # from a running stream to after the push
        push = subprocess.run(
            cli(
                "cloud_sync",
                "models",
                "push",
                "--device",
                "dev-01",
                "--name",
                "digits",
                "--version",
                "2",
                "--key",
                str(tmp_path / "keys" / "fleet.key"),
                "--mqtt",
                broker,
                "--timeout",
                "30",
                str(ALT),
            ),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert push.returncode == 0, push.stdout + push.stderr
        assert "active" in push.stdout
        activated = time.monotonic()
        new_sha = hashlib.sha256(ALT.read_bytes()).hexdigest()
        deadline = activated + 5.0
        while time.monotonic() < deadline:
            lines = wait_lines(tmp_path / "out.jsonl", 1, 1)
            if any(line["model"]["sha256"] == new_sha for line in lines):  # type: ignore[index]
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no result from the pushed model within 5 s of active")
        time.sleep(1.0)
        assert tcp_connections(device.pid, mosquitto.port) == 1
    finally:
        counts = sampler.stop() if sampler is not None else []
        device.send_signal(signal.SIGTERM)
        _, stderr = device.communicate(timeout=15)
        time.sleep(1.0)
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=10)
    assert device.returncode == 0, stderr
    assert len(counts) >= 10
    assert set(counts) == {1}, f"connections to the broker over time: {counts}; device log: {stderr[-2000:]}"
    local = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    versions = [line["model"]["version"] for line in local]
    assert versions == sorted(versions)  # switched once, never back
    assert versions[-1] == 2
    remote = {line["seq"] for line in map(json.loads, listened.read_text().splitlines()) if line["stream"] == "digits"}
    assert {line["seq"] for line in local} <= remote  # every local result also reached the cloud
