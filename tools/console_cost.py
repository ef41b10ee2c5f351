"""What the console costs: runtime CPU with the page open vs closed (one run, same config), JPEG encodes per
second, and RSS with the HTTP server on vs off. Runs configs/demo.yaml; prints figures, asserts nothing.

    .venv/bin/python tools/console_cost.py [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.http.support import demo_config, serve  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def watch(url: str, streams: list[str], stop: threading.Event, fps: float = 5.0) -> None:
    """What an open console page asks for: the status once a second, each tile's frame `fps` times a second."""
    last_status = 0.0
    while not stop.wait(1 / fps):
        if time.monotonic() - last_status >= 1.0:
            urllib.request.urlopen(url + "api/status", timeout=10).read()
            last_status = time.monotonic()
        for name in streams:
            urllib.request.urlopen(f"{url}streams/{name}/latest.jpg", timeout=10).read()


def encodes(url: str) -> int:
    return int(json.load(urllib.request.urlopen(url + "api/status", timeout=10))["http"]["jpeg_encodes"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    seconds = parser.parse_args().seconds
    tmp = ROOT / "var" / "console-cost"
    tmp.mkdir(parents=True, exist_ok=True)
    config = demo_config(tmp)
    with serve(config) as runtime:
        pid = runtime.proc.pid
        time.sleep(3)
        c0 = cpu_s(pid)
        time.sleep(seconds)
        closed = (cpu_s(pid) - c0) / seconds
        stop = threading.Event()
        viewer = threading.Thread(target=watch, args=(runtime.url, ["photos", "pan"], stop), daemon=True)
        e0, c0 = encodes(runtime.url), cpu_s(pid)
        viewer.start()
        time.sleep(seconds)
        stop.set()
        viewer.join()
        opened = (cpu_s(pid) - c0) / seconds
        rate = (encodes(runtime.url) - e0) / seconds
        rss_on = rss_mb(pid)
    off = tmp / "off.yaml"
    off.write_text(config.read_text().split("\nhttp:")[0] + "\nhttp: {enabled: false}\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edge_runtime", "--config", str(off), "--display", "off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)  # fmt: skip
    time.sleep(3 + 2 * seconds)
    rss_off = rss_mb(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)
    print(f"demo config (3 streams), {seconds:g} s windows, {os.cpu_count()} cores:")
    print(f"  runtime CPU, page closed: {closed * 100:5.1f} % of a core")
    print(f"  runtime CPU, page open:   {opened * 100:5.1f} % of a core  (2 frame tiles + status polling)")
    print(f"  JPEG encodes/s while open: {rate:.1f} (cap: jpeg_fps 5 per stream)")
    print(f"  RSS after {3 + 2 * seconds:g} s: server on {rss_on:.0f} MB, server off {rss_off:.0f} MB")


if __name__ == "__main__":
    main()
