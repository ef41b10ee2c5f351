"""A real Prometheus scrapes the runtime; its query API agrees with the runtime's own stats."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.http.support import FACES, Served, serve, wait_until
from tests.support.ports import free_port, stop_process, wait_for_port

FRAMES = 90


def finite_config(tmp_path: Path) -> Path:
    """A synthetic camera of FRAMES frames through the face model: its counts end, then stay."""
    path = tmp_path / "finite.yaml"
    path.write_text(f"""\
device: {{id: prom-01}}
accelerator: {{threads: 1}}
{FACES}streams:
  boxes:
    source: {{type: synthetic, fps: 30, count: {FRAMES}}}
    pipeline: [{{type: infer, model: faces}}]
    sinks: []
  keepalive:  # the runtime stops when every stream has ended: this one does not
    source: {{type: synthetic, kind: readings, fps: 1}}
    sinks: []
http: {{listen: "127.0.0.1:${{env:EDGE_HTTP_PORT,8080}}"}}
""")
    return path


def start_prometheus(port: int, config: Path, target_port: int) -> subprocess.Popen[bytes]:
    config.write_text(f"""\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: edge
    static_configs: [{{targets: ["127.0.0.1:{target_port}"]}}]
""")
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: scripts/setup.sh --test installs it"
    proc = subprocess.Popen(
        [binary, f"--config.file={config}",
         f"--storage.tsdb.path={config.parent / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(config.parent / "prometheus.log").open("wb"),
    )  # fmt: skip
    wait_for_port(port, 30)
    wait_until(lambda: _ready(port), 30, "prometheus ready")  # the query API answers 503 until then
    return proc


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=10) as response:
            return int(response.status) == 200
    except OSError:  # HTTPError 503 included
        return False


def query(port: int, expr: str) -> float | None:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        data = json.load(response)
    results = data["data"]["result"]
    return float(results[0]["value"][1]) if results else None


def test_prometheus_scrapes_the_runtime_and_agrees_with_its_stats(tmp_path: Path) -> None:
    prom_port, prom_config = free_port(), tmp_path / "prometheus.yml"
    with serve(finite_config(tmp_path)) as runtime:
        proc = start_prometheus(prom_port, prom_config, runtime.port)
        try:
            expr = 'edge_stream_frames_total{stream="boxes",outcome="completed"}'
            wait_until(lambda: (query(prom_port, expr) or 0) > 0, 30, "a first scrape with results")
            wait_until(lambda: _finished(runtime), 30, "the finite stream to end")
            stats = runtime.stream("boxes")
            wait_until(lambda: query(prom_port, expr) == stats["completed"], 10, "a scrape after the end")
            dropped = query(prom_port, 'edge_stream_frames_total{stream="boxes",outcome="dropped"}')
            assert dropped == sum(stats["drops"].values())
            assert stats["offered"] == stats["completed"] + dropped
            assert query(prom_port, 'edge_stream_offered_total{stream="boxes"}') == stats["offered"]
            assert query(prom_port, 'up{job="edge"}') == 1.0
        finally:
            stop_process(proc, signal.SIGTERM)


def _finished(runtime: Served) -> bool:
    """All offered frames accounted for, and nothing new for a second (the source has ended)."""
    def counts() -> tuple[int, int, int]:
        s = runtime.stream("boxes")
        return s["offered"], s["completed"], sum(s["drops"].values())

    first = counts()
    time.sleep(1.0)
    offered, completed, dropped = counts()
    return offered > 0 and completed + dropped == offered and (offered, completed, dropped) == first
