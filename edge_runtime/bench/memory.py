"""Memory: peak RSS of a real `edge-runtime` process running 4 streams for a few seconds (Linux /proc)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edge_runtime.bench._setup import BenchModel

POLL_S = 0.05


def four_streams_yaml(model: BenchModel) -> str:
    width, height = model.size
    streams = "".join(
        f"""\
  cam{i}:
    source: {{type: synthetic, width: 640, height: 480, fps: 10}}
    priority: {["high", "normal", "normal", "low"][i]}
    deadline_ms: 500
    pipeline: [{{type: infer, model: net}}, {{type: tracker}}]
    sinks: [out]
"""
        for i in range(4)
    )
    del width, height
    return f"""\
device: {{id: bench-mem}}
accelerator: {{threads: {model.threads}}}
models:
  net: {model.yaml_entry()}
streams:
{streams}sinks:
  out: {{type: memory, capacity: 10000}}
status: {{display: off}}
"""


def peak_rss_mib(model: BenchModel, seconds: float = 5.0) -> float:
    """Run the runtime in a child process; its peak resident set size (VmHWM) read while it runs.

    Not the rusage of `wait4`: on Linux that includes the RSS the child inherited from this (large) process
    before it called exec, so it reports this process's size, not the runtime's.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "four.yaml"
        path.write_text(four_streams_yaml(model))
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_runtime", "--config", str(path), "--duration", str(seconds)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak_kib = 0
        while proc.poll() is None:
            peak_kib = max(peak_kib, _hwm_kib(proc.pid))
            time.sleep(POLL_S)
    if proc.returncode != 0:
        raise RuntimeError(f"the 4-stream runtime exited with {proc.returncode}")
    return peak_kib / 1024


def _hwm_kib(pid: int) -> int:
    """The process's peak RSS so far (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0
