"""The CLI's manners: help with no arguments, --version, a closed pipe, JSON logs, a status block that fits
an 80-column terminal, and the systemd unit `service install` writes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge_runtime.engine._terminal import LiveTerminal, status_line
from edge_runtime.stats import StreamStats
from tests.http.support import ticks_config

ROOT = Path(__file__).resolve().parents[2]
READINGS = (
    ticks_config("cli-01", fps=20).replace("ticks:", "a_stream_with_a_rather_long_name:") + "http: {enabled: false}\n"
)


def edge_runtime(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_runtime", *args], check=False, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_no_arguments_prints_help_and_version_prints_the_version() -> None:
    bare = edge_runtime()
    assert bare.returncode == 0
    assert bare.stdout.startswith("usage: edge-runtime")
    assert "service" in bare.stdout
    version = edge_runtime("--version")
    assert version.returncode == 0
    assert version.stdout.strip().startswith("edge-runtime 0.")


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m edge_runtime schema | head -c 10", shell=True, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert proc.stdout == '{\n  "$defs'
    assert proc.stderr == ""


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    config = tmp_path / "r.yaml"
    config.write_text(READINGS)
    proc = edge_runtime("--config", str(config), "--duration", "1.5", "--display", "log", "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert lines
    assert all({"ts", "level", "logger", "msg"} <= set(entry) for entry in lines)
    assert any(entry["msg"].startswith("final: a_stream_with") for entry in lines)


def test_status_block_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    stats = StreamStats("a_stream_with_a_rather_long_name")
    for reason in ("superseded", "stale", "queue_full", "fps_cap"):
        stats.drops.add(reason, 12345)
    stats.rate.sample(0, now=0.0)
    stats.rate.sample(95, now=10.0)
    line = status_line(stats, 20.0)
    assert "9.5 fps (avg 0.0)" in line
    assert len(line) > 80
    out = io.StringIO()
    terminal = LiveTerminal(out)
    terminal.update([line, line])
    terminal.print("a result line")
    terminal.close()
    block = [row.split("\x1b[J")[-1] for row in out.getvalue().splitlines()]
    assert block
    assert all(len(row) <= 80 for row in block), block


def test_service_install_writes_a_notify_unit(tmp_path: Path) -> None:
    config = tmp_path / "r.yaml"
    config.write_text(READINGS)
    unit = tmp_path / "edge.service"
    proc = edge_runtime("service", "install", "--config", str(config), "--user", "pi", "--output", str(unit),
                        cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "sudo systemctl enable --now edge" in proc.stdout
    text = unit.read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure", "User=pi", f"WorkingDirectory={tmp_path}",
                 f"ReadWritePaths={tmp_path / 'var'}", f"--config {config}"):  # fmt: skip
        assert line in text, line
    assert f"ExecStart={Path(sys.prefix) / 'bin' / 'edge-runtime'} run " in text
    config.write_text("streams: {}\n")
    refused = edge_runtime("service", "install", "--config", str(config), "--output", str(tmp_path / "x.service"))
    assert refused.returncode == 2
    assert not (tmp_path / "x.service").exists()


def test_status_line_says_disabled_right_after_the_name() -> None:
    stats = StreamStats("porch")
    assert "disabled" not in status_line(stats, 1.0)
    stats.status = "disabled"
    assert status_line(stats, 1.0).startswith("porch        disabled ")
