"""The test servers themselves work: a message goes through the real broker."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.support.mosquitto import Mosquitto


@pytest.mark.broker
def test_mosquitto_carries_a_message(mosquitto: Mosquitto) -> None:
    sub = subprocess.Popen(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-t", "t/x", "-C", "1", "-W", "10"],
        stdout=subprocess.PIPE,
    )
    time.sleep(0.3)
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-t", "t/x", "-m", "hello", "-q", "1"],
        check=True,
    )
    out, _ = sub.communicate(timeout=10)
    assert out.decode().strip() == "hello"
