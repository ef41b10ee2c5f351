"""sd_notify: tell systemd the runtime is ready, alive, what it is doing, and that it is stopping.

Only when systemd asked for it (`NOTIFY_SOCKET` set, as with `Type=notify`); otherwise nothing is sent.
`WATCHDOG=1` is sent from the event loop, so a blocked loop stops the pings and systemd restarts the service.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)
STATUS_EVERY_S = 10.0


class SystemdNotifier:
    def __init__(self, address: str, watchdog_s: float | None, status: Callable[[], str]) -> None:
        self.address = "\0" + address[1:] if address.startswith("@") else address  # '@': an abstract socket
        self.watchdog_s = watchdog_s
        self.status = status
        self._sock: socket.socket | None = None
        self._failed = False

    @classmethod
    def from_env(cls, status: Callable[[], str], env: Mapping[str, str] | None = None) -> SystemdNotifier | None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET")
        if not address:
            return None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watchdog = int(usec) / 1e6 if usec.isdigit() and (not pid or pid == str(os.getpid())) else None
        return cls(address, watchdog, status)

    def send(self, *fields: str) -> None:
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.setblocking(False)
        try:
            self._sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:  # systemd gone or the socket full: the runtime carries on
            if not self._failed:
                log.warning("sd_notify to %s failed: %s", self.address.lstrip("\0"), exc)
            self._failed = True

    def ready(self) -> None:
        self.send("READY=1", f"STATUS={self.status()}")

    def stopping(self) -> None:
        self.send("STOPPING=1", "STATUS=stopping")

    async def run(self) -> None:
        """Watchdog pings at half the interval systemd set, and the status line every STATUS_EVERY_S."""
        every = min(self.watchdog_s / 2, STATUS_EVERY_S) if self.watchdog_s else STATUS_EVERY_S
        since_status = 0.0
        try:
            while True:
                await asyncio.sleep(every)
                since_status += every
                fields = ["WATCHDOG=1"] if self.watchdog_s else []
                if since_status >= STATUS_EVERY_S or not fields:
                    fields.append(f"STATUS={self.status()}")
                    since_status = 0.0
                self.send(*fields)
        finally:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
