"""sd_notify against a real unix datagram socket bound by the test as NOTIFY_SOCKET."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from edge_runtime.notify import SystemdNotifier
from tests.http.support import HTTP, serve, ticks_config

CONFIG = ticks_config("notify-01") + HTTP


def receive(sock: socket.socket, until: float) -> list[str]:
    messages = []
    while time.monotonic() < until:
        sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return messages


def test_ready_watchdog_status_and_stopping(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    config = tmp_path / "notify.yaml"
    config.write_text(CONFIG)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}  # pings every 0.2 s
        with serve(config, env=env) as runtime:
            messages = receive(sock, time.monotonic() + 1.5)
            runtime.proc.send_signal(signal.SIGTERM)
            runtime.proc.wait(timeout=15)
        messages += receive(sock, time.monotonic() + 0.5)
    assert messages[0].splitlines()[0] == "READY=1"
    assert messages[0].splitlines()[1].startswith("STATUS=1 streams, ")
    pings = [m for m in messages if m.startswith("WATCHDOG=1")]
    assert len(pings) >= 4, messages
    stopping = [i for i, m in enumerate(messages) if m.startswith("STOPPING=1")]
    assert len(stopping) == 1, messages
    assert stopping[0] > messages.index(pings[0])


def test_nothing_without_notify_socket() -> None:
    assert SystemdNotifier.from_env(lambda: "", env={}) is None
    assert SystemdNotifier.from_env(lambda: "", env={"WATCHDOG_USEC": "1000000"}) is None
    other_pid = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    notifier = SystemdNotifier.from_env(lambda: "", env=other_pid)
    assert notifier is not None
    assert notifier.watchdog_s is None  # the watchdog is for another process
