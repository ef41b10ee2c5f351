"""ZeroMQ end to end: DEALER device, `edge-cloud listen --zmq-bind` ROUTER with CURVE, real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from cloud_sync import CloudConfig, MemoryTransport, Uplink
from cloud_sync.curve import allow_client, make_keypair, make_server_dir
from tests.cloud.runner import UplinkThread
from tests.cloud.support import Listener, envelope, seqs_by_stream
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
        produced = device.finish()
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
        stats = device.stats()
        while time.monotonic() < deadline and not (stats["link"]["last_error"] and stats["outbox"]["entries"] > 5):
            time.sleep(0.05)  # refused, and entries keep committing meanwhile
            stats = device.stats()
    finally:
        device.stop()
        report = listener.stop()
    assert "refused" in str(stats["link"]["last_error"])
    assert stats["delivered"] == 0
    assert stats["outbox"]["entries"] > 5, "refused messages stay in the outbox"
    assert report["totals"]["received"] == 0
    assert listener.received() == []



class _Router:
    """A bare cloud ROUTER on loopback. For the first arrival of seq `lose_seq` it loses the `lose` part
    ("message": never stored, "ack": stored, the ack lost); `first_ack` frames go before the id in the first ack.
    `order` is every seq in the order the cloud stored it."""

    def __init__(self, lose: str = "", lose_seq: int = 1, first_ack: tuple[bytes, ...] = ()) -> None:
        self.ctx = zmq.asyncio.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.endpoint = f"tcp://127.0.0.1:{self.sock.bind_to_random_port('tcp://127.0.0.1')}"
        self.lose, self.lose_seq, self.first_ack = lose, lose_seq, first_ack
        self.order: list[int] = []

    async def serve(self) -> None:
        lost = False
        while True:
            frames = await self.sock.recv_multipart()
            if frames[1:] == [b"hello"]:  # the device's hello after each handshake
                continue
            ident, _, msg_id, _, payload = frames
            seq = int(json.loads(payload)["seq"])
            losing = self.lose if seq == self.lose_seq and not lost else ""
            lost = lost or bool(losing)
            if losing != "message":
                self.order.append(seq)
            if not losing:
                extra, self.first_ack = self.first_ack, ()
                await self.sock.send_multipart([ident, b"ack", *extra, msg_id])

    def close(self) -> None:
        self.sock.close(0)
        self.ctx.term()


async def _deliver(router: _Router, outbox: Path, n: int) -> Uplink:
    """Store n envelopes, then run an uplink to `router` until all are delivered (or its run fails)."""
    config = CloudConfig.model_validate({
        "zmq": {"endpoint": router.endpoint, "ack_timeout": 1.0},
        "outbox": {"path": str(outbox), "batch_size": 4},
    })
    stored = Uplink(config, "dev1", MemoryTransport("dev1"))
    for i in range(n):
        stored.put(envelope(i))
    await stored.close()  # all n in the outbox before the drain starts: its batches overlap from the first
    uplink = Uplink(config, "dev1")
    tasks = [asyncio.create_task(uplink.run()), asyncio.create_task(router.serve())]
    try:
        deadline = time.monotonic() + 15
        while uplink.delivered < n and time.monotonic() < deadline:
            for task in tasks:
                if task.done():
                    task.result()  # raise what ended it
            await asyncio.sleep(0.02)
        assert all(not task.done() for task in tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        router.close()
    assert uplink.delivered == n
    return uplink


@pytest.mark.parametrize("lose", ["message", "ack"])
def test_after_an_ack_timeout_the_retry_goes_before_newer_batches(tmp_path: Path, lose: str) -> None:
    router = _Router(lose=lose, lose_seq=1)
    asyncio.run(_deliver(router, tmp_path / "o.db", 12))
    order = router.order
    assert sorted(set(order)) == list(range(12))
    retry = max(i for i, seq in enumerate(order) if seq == 1)
    # Batches of 4: seq 1 went out with 0..3; the next batch (4..7) must wait for its re-send.
    assert all(seq < 4 for seq in order[:retry]), f"newer entries went ahead of the re-sent one: {order}"


def test_a_malformed_ack_is_counted_and_the_link_goes_on(tmp_path: Path) -> None:
    router = _Router(first_ack=(b"not-an-id", b"\xff"))
    uplink = asyncio.run(_deliver(router, tmp_path / "o.db", 6))
    assert sorted(router.order) == list(range(6))
    link = uplink.stats()["link"]
    assert link["drops"]["bad_ack"] == 2
