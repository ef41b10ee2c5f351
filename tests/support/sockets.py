"""Counting a process's TCP connections (Linux /proc, the same source `ss -tnp` reads)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

ESTABLISHED = "01"


def tcp_connections(pid: int, remote_port: int) -> int:
    """Established TCP connections that process `pid` holds to `remote_port` (any address)."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            port = int(fields[2].rsplit(":", 1)[1], 16)
            if port == remote_port and fields[3] == ESTABLISHED and fields[9] in inodes:
                count += 1
    return count


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


class ConnectionSampler:
    """Samples `tcp_connections` every `interval` s in a thread until `stop()`; `counts` holds every sample."""

    def __init__(self, pid: int, remote_port: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.remote_port = remote_port
        self.interval = interval
        self.counts: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connection-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.counts.append(tcp_connections(self.pid, self.remote_port))
            except OSError:  # the process ended
                return

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join()
        return self.counts
