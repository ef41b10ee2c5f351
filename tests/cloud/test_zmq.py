"""ZeroMQ end to end: DEALER device, `edge-cloud listen --zmq-bind` ROUTER with CURVE, real loopback sockets."""

from __future__ import annotations

import time
from pathlib import Path

from cloud_sync import CloudConfig
from cloud_sync.curve import allow_client, make_keypair, make_server_dir
from tests.cloud.runner import UplinkThread
from tests.cloud.support import Listener, seqs_by_stream
from tests.support.ports import free_port


def _keys(tmp_path: Path, allowed: bool = True) -> tuple[Path, dict[str, str]]:
    server_dir = tmp_path / "cloud-keys"
    server_public = make_server_dir(server_dir)
    client_public, client_secret = make_keypair(tmp_path / "device-keys", "dev1")
    if allowed:
        allow_client(server_dir, client_public)
    return server_dir, {"server_key": str(server_public), "client_key": str(client_secret)}


def _config(endpoint: str, curve: dict[str, str], outbox: Path) -> CloudConfig:
    return CloudConfig.model_validate({
        "zmq": {"endpoint": endpoint, "curve": curve, "ack_timeout": 1.0, "backoff_max": 0.5},
        "outbox": {"path": str(outbox), "batch_size": 64},
    })


def test_listener_restart_loses_nothing(tmp_path: Path) -> None:
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    server_dir, curve = _keys(tmp_path)
    args = ("--zmq-bind", endpoint, "--curve-dir", str(server_dir))
    listener = Listener(tmp_path, *args).start()
    device = UplinkThread(_config(endpoint, curve, tmp_path / "outbox.db"), rate=200.0).start()
    try:
        time.sleep(2.0)
        listener.stop()
        time.sleep(2.0)  # the device keeps producing into its outbox
        listener = Listener(tmp_path, *args).start()  # same output file: it resumes de-duplication
        time.sleep(1.5)
        device.pause()
        produced = device.produced
        assert device.wait_delivered(produced) == produced
        received = listener.wait_count(produced)
    finally:
        device.stop()
        listener.stop()
    by_stream = seqs_by_stream(received)
    assert len(received) == produced, "no loss and no duplicate in the output"
    for stream in ("porch", "yard"):
        assert by_stream[("boot-a", stream)] == list(range(produced // 2)), f"{stream}: complete and in order"


def test_unknown_curve_key_is_refused(tmp_path: Path) -> None:
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    server_dir, curve = _keys(tmp_path, allowed=False)
    listener = Listener(tmp_path, "--zmq-bind", endpoint, "--curve-dir", str(server_dir)).start()
    device = UplinkThread(_config(endpoint, curve, tmp_path / "outbox.db"), rate=100.0).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not device.stats()["link"]["last_error"]:
            time.sleep(0.05)
        stats = device.stats()
    finally:
        device.stop()
        report = listener.stop()
    assert "refused" in str(stats["link"]["last_error"])
    assert stats["delivered"] == 0
    assert stats["outbox"]["entries"] > 0, "refused messages stay in the outbox"
    assert report["totals"]["received"] == 0
    assert listener.received() == []
