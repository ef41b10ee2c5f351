"""`edge-runtime service install`: a systemd unit that runs this venv's `edge-runtime` on a config;
`edge-runtime reload --pid-file FILE`: ask a running runtime to re-read its config (SIGHUP).

`Type=notify` with a watchdog (the runtime speaks sd_notify, see `edge_runtime.notify`), restarted on failure,
the file system read-only except the project's `var/` (outbox, model store, results).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edge_runtime.config import load_config

UNIT_DIR = Path("/etc/systemd/system")
WATCHDOG_S = 30


def unit_text(config: Path, user: str, workdir: Path, executable: Path) -> str:
    command = shlex.join([str(executable), "run", "--config", str(config), "--display", "log"])
    return f"""\
[Unit]
Description=edge-runtime: real-time AI stream processing ({config.name})
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={command}
ExecReload=/bin/kill -HUP $MAINPID
WorkingDirectory={workdir}
User={user}
Environment=PYTHONUNBUFFERED=1
WatchdogSec={WATCHDOG_S}
Restart=on-failure
RestartSec=5
TimeoutStopSec=15
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={workdir / "var"}
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


def add_service_command(sub: Any) -> None:
    service = sub.add_parser("service", help="run as a systemd service")
    actions = service.add_subparsers(dest="action", required=True)
    install = actions.add_parser("install", help="write a systemd unit for a config and print how to start it")
    install.add_argument("--config", "-c", required=True, type=Path, help="the device config (YAML)")
    install.add_argument("--user", default=getpass.getuser(), help="run as this user (default: you)")
    install.add_argument("--name", default="edge-runtime", help="the unit's name (default: edge-runtime)")
    install.add_argument("--output", type=Path, help=f"write the unit here (default: {UNIT_DIR}/NAME.service)")
    install.set_defaults(handler=_install)


def _install(ns: argparse.Namespace) -> int:
    config = ns.config.resolve()
    load_config(config)  # a bad config is refused now, not at the first boot
    workdir = Path.cwd().resolve()
    executable = Path(sys.prefix) / "bin" / "edge-runtime"  # this venv's, not whichever is first on PATH
    output = ns.output or UNIT_DIR / f"{ns.name}.service"
    try:
        output.write_text(unit_text(config, ns.user, workdir, executable))
    except OSError as exc:
        print(f"{output}: cannot write the unit: {exc.strerror or exc} (run with sudo, or use --output)",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"wrote {output}")
    print("now run:")
    print("  sudo systemctl daemon-reload")
    print(f"  sudo systemctl enable --now {output.stem}")
    print(f"  systemctl status {output.stem}; journalctl -u {output.stem} -f")
    print(f"  sudo systemctl reload {output.stem}    # re-read the config (SIGHUP)")
    return 0


@contextlib.contextmanager
def pid_file(path: Path | None) -> Iterator[None]:
    """Write this process's id to `path` while running (for `edge-runtime reload`); remove it at exit."""
    if path is None:
        yield
        return
    path.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def add_reload_command(sub: Any) -> None:
    reload = sub.add_parser("reload", help="make a running runtime re-read its config (SIGHUP)")
    reload.add_argument("--pid-file", required=True, type=Path, help="the file `run --pid-file` wrote")
    reload.set_defaults(handler=_reload)


def _reload(ns: argparse.Namespace) -> int:
    try:
        pid = int(ns.pid_file.read_text(encoding="ascii").strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"{ns.pid_file}: cannot signal the runtime: {reason}", file=sys.stderr)
        return 2
    print(f"asked edge-runtime (pid {pid}) to reload its config; its log says what changed")
    return 0
