"""Memory: peak RSS of a real `edge-runtime` process running 4 streams for a few seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from edge_runtime.bench._setup import BenchModel


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
    """Run the runtime in a child process; its peak resident set size from the kernel (wait4 rusage)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "four.yaml"
        path.write_text(four_streams_yaml(model))
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_runtime", "--config", str(path), "--duration", str(seconds)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"the 4-stream runtime exited with {proc.returncode}")
    return usage.ru_maxrss / 1024  # KiB on Linux
