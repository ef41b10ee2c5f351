"""The MQTT client's socket reads (cloud_sync._paho) against a real mosquitto: chunks, a packet budget per call."""

from __future__ import annotations

import select
import socket
import time

import pytest
from paho.mqtt.enums import MQTTErrorCode

from cloud_sync._paho import Client
from cloud_sync.mqtt import new_client
from tests.support.mosquitto import Mosquitto

pytestmark = pytest.mark.broker
OK = MQTTErrorCode.MQTT_ERR_SUCCESS
PUBACK_BYTES = 4


def _connected(port: int, client_id: str) -> tuple[Client, socket.socket]:
    """A connected client (CONNACK read) that queues its packets until `loop_write`, as on the event loop."""
    client = new_client(client_id)
    assert isinstance(client, Client)
    client.connect("127.0.0.1", port, keepalive=30)
    sock = client.socket()
    assert isinstance(sock, socket.socket)
    assert select.select([sock], [], [], 5.0)[0], "no CONNACK"
    assert client.loop_read(1) == OK
    assert client.is_connected()
    client.on_socket_register_write = lambda *_: None  # an external loop: writes wait for `loop_write`
    return client, sock


def _wait_for_bytes(sock: socket.socket, n: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not (select.select([sock], [], [], 0.05)[0] and len(sock.recv(65536, socket.MSG_PEEK)) >= n):
        assert time.monotonic() < deadline, f"fewer than {n} bytes arrived"


def test_a_read_parses_at_most_the_packets_asked_and_keeps_the_rest(mosquitto: Mosquitto) -> None:
    client, sock = _connected(mosquitto.port, "paho-io-read")
    try:
        infos = [client.publish("t/read", b"x" * 100, qos=1) for _ in range(40)]
        assert client.loop_write() == OK
        assert not client.want_write()
        _wait_for_bytes(sock, 40 * PUBACK_BYTES)  # every PUBACK is in the socket: one recv takes them all
        assert client.loop_read(8) == OK
        assert [info.is_published() for info in infos] == [True] * 8 + [False] * 32
        assert client.buffered  # the other 32 were read, not parsed: the socket will not signal them again
        assert client.loop_read(100) == OK
        assert all(info.is_published() for info in infos)
        assert not client.buffered
    finally:
        client.disconnect()
        client.loop_write()
