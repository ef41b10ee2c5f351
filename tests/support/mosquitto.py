"""A real mosquitto broker on 127.0.0.1 and a free port, started and stopped by the tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.support.ports import free_port, stop_process, wait_for_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Mosquitto:
    """One broker process. `start()` and `stop()` may be called repeatedly (same port, same persistence)."""

    def __init__(self, workdir: Path, port: int | None = None, extra_conf: str = "", persistence: bool = False) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.persistence = persistence
        self.proc: subprocess.Popen[bytes] | None = None
        self.conf_path = workdir / f"mosquitto-{self.port}.conf"
        self.log_path = workdir / f"mosquitto-{self.port}.log"

    def write_conf(self) -> None:
        lines = [
            # as root, mosquitto would switch to user `mosquitto`, who cannot write pytest's private tmp dirs
            *(["user root"] if os.geteuid() == 0 else []),
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_inflight_messages 0",
            "max_queued_messages 0",
        ]
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/"]
        self.conf_path.write_text("\n".join(lines) + "\n" + self.extra_conf)

    def start(self, wait_port: int | None = None) -> None:
        if not Path(MOSQUITTO).exists():
            raise RuntimeError("mosquitto is not installed: run scripts/setup.sh --test (apt-get install mosquitto)")
        self.write_conf()
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(wait_port or self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc, sig)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""
