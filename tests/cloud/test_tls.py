"""MQTT over TLS with client certificates (require_certificate), against a real mosquitto."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_sync import CloudConfig
from tests.cloud.certs import make_pki
from tests.cloud.runner import UplinkThread
from tests.cloud.support import ROOT, Listener
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port

pytestmark = pytest.mark.broker


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    pki = make_pki(tmp_path / "pki")
    port = free_port()
    conf = (f"listener {port} 127.0.0.1\ncafile {pki}/ca.pem\ncertfile {pki}/server.pem\n"
            f"keyfile {pki}/server.key\nrequire_certificate true\n")
    broker = Mosquitto(tmp_path, extra_conf=conf)
    broker.start(wait_port=port)
    yield broker, port, pki
    broker.stop()


def test_tls_with_client_certificates_delivers(tls_broker: tuple[Mosquitto, int, Path], tmp_path: Path) -> None:
    _, port, pki = tls_broker
    tls = ["--ca", str(pki / "ca.pem"), "--cert", str(pki / "client.pem"), "--key", str(pki / "client.key")]
    listener = Listener(tmp_path, "--mqtt", f"127.0.0.1:{port}", *tls).start()
    config = CloudConfig.model_validate({
        "mqtt": {"host": "127.0.0.1", "port": port,
                 "tls": {"ca": str(pki / "ca.pem"), "cert": str(pki / "client.pem"), "key": str(pki / "client.key")}},
        "outbox": {"path": str(tmp_path / "outbox.db")},
    })
    device = UplinkThread(config, rate=200.0).start()
    try:
        time.sleep(1.0)
        produced = device.finish()
        received = listener.wait_count(produced)
    finally:
        device.stop()
        listener.stop()
    assert len(received) == produced > 0


def test_wrong_ca_is_refused_with_one_line(tls_broker: tuple[Mosquitto, int, Path]) -> None:
    _, port, pki = tls_broker
    result = subprocess.run(
        [sys.executable, "-m", "cloud_sync", "listen", "--mqtt", f"127.0.0.1:{port}", "--ca", str(pki / "other-ca.pem"),
         "--cert", str(pki / "client.pem"), "--key", str(pki / "client.key"), "--duration", "10"],
        capture_output=True, text=True, check=False, timeout=30, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert "certificate verify failed" in errors[0]
    assert "Traceback" not in result.stderr
