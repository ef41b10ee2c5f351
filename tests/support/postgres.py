"""A real, throwaway PostgreSQL cluster (Debian's `postgresql` package): initdb in a temporary directory, the
server on 127.0.0.1 and a free port, stopped by its PID. As root it runs as the `postgres` user (PostgreSQL
refuses to run as root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.ports import free_port, stop_process, wait_for_port


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup.sh --test (apt-get install postgresql)")
    return found


class Postgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="edge-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._user: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            self._user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        data = self.dir / "data"
        subprocess.run([_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **self._user)
        self.proc = subprocess.Popen(
            [_bin("postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.dir),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50"],
            stdout=subprocess.DEVNULL, stderr=(self.dir / "server.log").open("wb"), start_new_session=True,
            **self._user,
        )
        wait_for_port(self.port, timeout=30.0)

    def database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        deadline = time.monotonic() + 30.0
        while True:
            try:
                conn = psycopg.connect(self.url, autocommit=True)
                break
            except psycopg.OperationalError:  # still starting up
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_process(proc, timeout=15.0)
        shutil.rmtree(self.dir, ignore_errors=True)
