"""Memory: peak RSS of a real `edge-runtime` process running 4 streams for a few seconds (Linux /proc)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edge_runtime.bench._setup import BenchModel

POLL_S = 0.05


def four_streams_yaml(model: BenchModel, http_port: int = 8080) -> str:
    """The 4 streams with everything else at its default: the HTTP server listens (on `http_port`)."""
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
http: {{listen: "127.0.0.1:{http_port}"}}
"""


def peak_rss_mib(model: BenchModel, seconds: float = 5.0, *, http_client: bool = False) -> float:
    """Run the runtime in a child process; its peak resident set size (VmHWM) read while it runs. With
    `http_client`, one health check is asked once it listens: the server's libraries load (they wait for a client).

    Not the rusage of `wait4`: on Linux that includes the RSS the child inherited from this (large) process
    before it called exec, so it reports this process's size, not the runtime's.
    """
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "four.yaml"
        path.write_text(four_streams_yaml(model, port))
        proc = subprocess.Popen(
            [sys.executable, "-m", "edge_runtime", "--config", str(path), "--duration", str(seconds)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak_kib, asked = 0, not http_client
        while proc.poll() is None:
            peak_kib = max(peak_kib, _hwm_kib(proc.pid))  # a high-water mark: a late read misses nothing
            asked = asked or _health_check(port)
            time.sleep(POLL_S)
    if proc.returncode != 0:
        raise RuntimeError(f"the 4-stream runtime exited with {proc.returncode}")
    if not asked:
        raise RuntimeError(f"the 4-stream runtime never answered on 127.0.0.1:{port}")
    return peak_kib / 1024


def run(model: BenchModel) -> dict[str, float]:
    """Peak RSS of the 4 streams as started, and once a client has used the HTTP server."""
    return {
        "rss_4_streams_mib": peak_rss_mib(model),
        "rss_4_streams_http_client_mib": peak_rss_mib(model, http_client=True),
    }


def line(figures: dict[str, float]) -> str:
    return (
        f"memory: 4 streams, peak RSS {figures['rss_4_streams_mib']:.1f} MiB"
        f" ({figures['rss_4_streams_http_client_mib']:.1f} MiB once a client used the HTTP server)"
    )


def _health_check(port: int) -> bool:
    """True once /healthz answered (any status); False while nothing listens yet."""
    import urllib.error  # here: `edge-runtime run` imports this module with its subcommands
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


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


def _free_port() -> int:
    """A free loopback port: the runtime's server listens as by default, without meeting another on 8080."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
