"""A live HTTP MJPEG camera on 127.0.0.1: Debian's ffmpeg serving a test pattern at /cam.mjpg.

ffmpeg's HTTP server (``-listen 1``) serves one client and then exits, so a supervisor thread starts it again
after each client, the way a camera accepts the next connection. `stop()` kills it (the camera goes away),
`pause()` freezes it (the camera stalls);
`start()` brings it back on the same port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

from tests.support.ports import free_port

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
RESTART_PAUSE_S = 0.05


class MjpegServer:
    def __init__(self, port: int | None = None, fps: int = 15, size: str = "320x240") -> None:
        self.port = port or free_port()
        self.fps = fps
        self.size = size
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cam.mjpg"

    def command(self) -> list[str]:
        source = f"testsrc=size={self.size}:rate={self.fps}"
        return [FFMPEG, "-hide_banner", "-loglevel", "quiet", "-nostdin", "-re", "-f", "lavfi", "-i", source,
                "-q:v", "5", "-f", "mpjpeg", "-listen", "1", self.url]  # fmt: skip

    def start(self, timeout: float = 10.0) -> None:
        if not os.path.exists(FFMPEG):
            raise RuntimeError("ffmpeg is not installed (apt-get install ffmpeg)")
        self._stop.clear()
        self._thread = threading.Thread(target=self._supervise, name=f"mjpeg-server:{self.port}", daemon=True)
        self._thread.start()
        wait_listening(self.port, timeout)

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def pause(self) -> None:
        """Freeze the serving ffmpeg (SIGSTOP): the connection stays open but no frame comes, a stalled camera."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: int) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None:
            os.kill(proc.pid, sig)

    def _supervise(self) -> None:
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                self._proc = proc
            proc.wait()
            if self._stop.wait(RESTART_PAUSE_S):
                return


def wait_listening(port: int, timeout: float) -> None:
    """Wait until a socket listens on 127.0.0.1:port, without connecting (a connection would use up ffmpeg)."""
    wanted = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
                    return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    proc.wait(timeout=5)
