"""A live RTSP camera on 127.0.0.1: a GStreamer RTSP server (tests/support/rtsp_server.py) as a subprocess.

It runs under Debian's /usr/bin/python3, where the `gi` bindings live. By default it offers RTP over TCP
only, so a client that does not use TCP cannot get frames. `stop()` kills it; `start()` restarts it, same port.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.support.ports import free_port, stop_process, wait_for_port

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("rtsp_server.py")


class RtspServer:
    def __init__(self, port: int | None = None, fps: int = 15, width: int = 320, height: int = 240) -> None:
        self.port = port or free_port()
        self.fps = fps
        self.width = width
        self.height = height
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def command(self) -> list[str]:
        return [SYSTEM_PYTHON, str(SCRIPT), "--port", str(self.port), "--fps", str(self.fps),
                "--width", str(self.width), "--height", str(self.height)]  # fmt: skip

    def start(self, timeout: float = 10.0) -> None:
        if not os.path.exists(SYSTEM_PYTHON):
            raise RuntimeError("no /usr/bin/python3 (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0)")
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_port(self.port, timeout)
        except TimeoutError:
            self.stop()
            raise

    def stop(self, sig: int = signal.SIGKILL) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc, sig)
