"""`edge-cloud` user mistakes: one line naming the problem, no traceback, exit 1 (cannot bind) or 2 (usage)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from cloud_sync.models import generate_keys
from tests.cloud.support import EDGE_CLOUD, ROOT


def _run(*args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([*EDGE_CLOUD, *args], check=False, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=60)
    return done.returncode, done.stderr


@pytest.fixture
def push(tmp_path: Path) -> list[str]:
    """`models push` of a small model file with a real signing key, missing only the link arguments."""
    private, _ = generate_keys(tmp_path / "fleet")
    model = tmp_path / "m.tflite"
    model.write_bytes(b"TFL3" * 1000)
    return ["models", "push", "--device", "dev1", "--name", "m", "--version", "2", "--key", str(private),
            "--timeout", "1", str(model)]


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_zmq_relay_endpoint_that_cannot_be_connected(push: list[str]) -> None:
    status, stderr = _run(*push, "--zmq", "bogus://x")
    assert status == 1
    line = _one_line(stderr)
    assert line.startswith("edge-cloud models: cannot bind/connect bogus://x: "), line
    assert "Protocol not supported" in line


def test_zmq_relay_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        endpoint = f"tcp://127.0.0.1:{taken.getsockname()[1]}"
        status, stderr = _run("listen", "--zmq-bind", "tcp://127.0.0.1:*", "--relay-bind", endpoint, "--duration", "5")
    assert status == 1
    assert "Traceback" not in stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith(f"edge-cloud listen: error: zmq bind {endpoint}: "), stderr
    assert "in use" in line


def test_relay_without_zmq() -> None:
    status, stderr = _run("listen", "--mqtt", "127.0.0.1:1", "--relay-bind", "tcp://127.0.0.1:*")
    assert status != 0
    expected = "edge-cloud listen: --relay-bind goes with --zmq-bind (over MQTT, pushes use the broker)"
    assert _one_line(stderr) == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (["--zmq", "tcp://127.0.0.1:1", "--curve-key", "k.key_secret"],
         "edge-cloud: CURVE needs both --curve-key and --curve-server-key"),
        (["--mqtt", "127.0.0.1:1", "--curve-key", "k.key_secret"],
         "edge-cloud: --curve-key and --curve-server-key go with --zmq (MQTT uses broker TLS)"),
    ],
)
def test_pusher_curve_arguments_that_do_not_fit(push: list[str], link: list[str], expected: str) -> None:
    status, stderr = _run(*push, *link)
    assert status == 1
    assert _one_line(stderr) == expected


@pytest.mark.parametrize("command", [["models", "status", "--device", "dev1"], ["listen"]])
def test_mqtt_without_a_port(command: list[str]) -> None:
    status, stderr = _run(*command, "--mqtt", "nohostport")
    assert status == 2
    assert _one_line(stderr) == f"edge-cloud {command[0]}: --mqtt wants HOST:PORT with a port in 1..65535 " \
                                "(got 'nohostport')"


def test_an_argument_the_manifest_refuses(push: list[str]) -> None:
    status, stderr = _run(*push, "--chunk-size", "5", "--mqtt", "127.0.0.1:1")
    assert status == 2
    line = _one_line(stderr)
    assert line.startswith("edge-cloud models: chunk_size: "), line
    assert "1024" in line
