"""A device config with a `cloud:` section, run by `edge-runtime`, against a real mosquitto (or ZeroMQ) and
`edge-cloud`: results reach `edge-cloud listen`, and a model pushed by `edge-cloud models push` goes live while the
stream runs, all on the device's one connection to the broker (or to the listener's ROUTER)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port
from tests.support.sockets import ConnectionSampler, tcp_connections

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_uint8.tflite"
ALT = ROOT / "models" / "test_alt.tflite"

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


def config(tmp_path: Path, link: str) -> Path:
    """The device config; `link` is the `cloud:` link line (mqtt or zmq)."""
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
  {link}
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


@dataclass(frozen=True)
class Link:
    """How the device, the listener and the pusher reach the cloud; `port`: where the device's one link goes."""

    device: str  # the `cloud:` link line of the device config
    listen: tuple[str, ...]
    push: tuple[str, ...]
    port: int
    ready: str  # in the listener's first stderr line once results published from now on reach it
    elsewhere: tuple[int, ...] = ()  # cloud ports the device must hold no connection to


def test_results_and_a_pushed_model_share_the_device_s_one_connection(tmp_path: Path, mosquitto: Mosquitto) -> None:
    broker = f"127.0.0.1:{mosquitto.port}"
    device = f"mqtt: {{host: 127.0.0.1, port: {mosquitto.port}, backoff_initial: 0.2, backoff_max: 1}}"
    _one_connection(tmp_path, Link(device, ("--mqtt", broker), ("--mqtt", broker), mosquitto.port, "subscribed"))


def test_over_zeromq_results_and_a_relayed_push_share_the_device_s_one_connection(tmp_path: Path) -> None:
    port, relay = free_port(), free_port()
    device = f"zmq: {{endpoint: 'tcp://127.0.0.1:{port}', ack_timeout: 1.0, backoff_max: 1}}"
    listen = ("--zmq-bind", f"tcp://127.0.0.1:{port}", "--relay-bind", f"tcp://127.0.0.1:{relay}")
    link = Link(device, listen, ("--zmq", f"tcp://127.0.0.1:{relay}"), port, "model relay on", (relay,))
    _one_connection(tmp_path, link)


def _one_connection(tmp_path: Path, link: Link) -> None:
    subprocess.run(cli("cloud_sync", "keys", "generate", str(tmp_path / "keys" / "fleet")), check=True)
    listened = tmp_path / "cloud.jsonl"
    listener = subprocess.Popen(
        cli("cloud_sync", "listen", *link.listen, "--out", str(listened)), stderr=subprocess.PIPE, text=True
    )
    assert listener.stderr is not None
    assert link.ready in listener.stderr.readline()  # results published from now on reach it
    device = subprocess.Popen(
        cli("edge_runtime", "--config", str(config(tmp_path, link.device))), stderr=subprocess.PIPE, text=True
    )
    sampler: ConnectionSampler | None = None
    try:
        wait_lines(tmp_path / "out.jsonl", 20, 30)
        sampler = ConnectionSampler(device.pid, link.port)  # from a running stream to after the push
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
                *link.push,
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
        assert tcp_connections(device.pid, link.port) == 1
        assert [tcp_connections(device.pid, port) for port in link.elsewhere] == [0] * len(link.elsewhere)
    finally:
        counts = sampler.stop() if sampler is not None else []
        device.send_signal(signal.SIGTERM)
        _, stderr = device.communicate(timeout=15)
        time.sleep(1.0)
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=10)
    assert device.returncode == 0, stderr
    assert len(counts) >= 10
    assert set(counts) == {1}, f"connections to the cloud over time: {counts}; device log: {stderr[-2000:]}"
    local = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    versions = [line["model"]["version"] for line in local]
    assert versions == sorted(versions)  # switched once, never back
    assert versions[-1] == 2
    remote = {line["seq"] for line in map(json.loads, listened.read_text().splitlines()) if line["stream"] == "digits"}
    assert {line["seq"] for line in local} <= remote  # every local result also reached the cloud
