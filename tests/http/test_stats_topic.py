"""The stats topic, `/metrics` and the stats line tell the same counts: a real runtime process, a real mosquitto,
a fake sysfs tree (throttled, so the thermal state changes), then the broker stopped so the outbox backs up and
its oldest entry ages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.http.support import HTTP, Served, serve, wait_until
from tests.http.test_console import chromium
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import Probe, probe
from tests.thermal.test_thermal import sysfs

BURST = 40


def config_text(tmp_path: Path, port: int) -> str:
    return f"""\
device: {{id: stats-01}}
streams:
  burst:
    source: {{type: synthetic, kind: readings, fps: 40, count: {BURST}}}
    priority: high
    sinks: [cloud]
  ticks:
    source: {{type: synthetic, kind: readings, fps: 5}}
    sinks: []
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}, backoff_max: 1}}
  outbox: {{path: {tmp_path / "outbox.db"}}}
  stats_interval_s: 0.5
thermal: {{sysfs_root: {tmp_path / "sys"}, interval_s: 0.2, warm: {{threads: 1}}}}
{HTTP}"""


def metrics(runtime: Served) -> dict[str, float]:
    """Every sample of /metrics: `name{labels}` -> value (the client writes labels in alphabetical order)."""
    text = runtime.get("metrics")[1].decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+(?:\{[^}]*\})?) (\S+)$", text, re.M)}


def burst_counts(samples: dict[str, float]) -> dict[str, Any]:
    drops = {}
    for key, value in samples.items():
        found = re.fullmatch(r'edge_stream_drops_total\{reason="(\w+)",stream="burst"\}', key)
        if found:
            drops[found.group(1)] = int(value)
    return {
        "offered": int(samples['edge_stream_offered_total{stream="burst"}']),
        "completed": int(samples['edge_stream_frames_total{outcome="completed",stream="burst"}']),
        "dropped": int(samples['edge_stream_frames_total{outcome="dropped",stream="burst"}']),
        "drops": drops,
    }


def passes_promtool(runtime: Served) -> None:
    """The watchdog, thermal and outbox-age families pass `promtool check metrics` too."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/setup.sh --test installs prometheus"
    body = runtime.get("metrics")[1]
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


async def stats_with(client: Probe, completed: int, timeout: float = 15.0) -> dict[str, Any]:
    """The first stats envelope that counts `completed` results of the burst stream."""
    deadline = time.monotonic() + timeout
    while True:
        message = await client.get(max(0.1, deadline - time.monotonic()))
        envelope: dict[str, Any] = json.loads(message.payload)
        if envelope["payload"]["runtime"]["streams"]["burst"]["completed"] == completed:
            return envelope


@pytest.mark.broker
def test_metrics_agree_with_the_stats_topic_and_the_stats_line(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    broker.start()
    sysfs(tmp_path / "sys", 45.0, throttled="0x5")  # under-voltage and throttled: at least warm
    config = tmp_path / "stats.yaml"
    config.write_text(config_text(tmp_path, broker.port))
    try:
        asyncio.run(scenario(broker, config))
    finally:
        broker.stop()
    final = re.search(r"final: burst .* done (\d+)  drops (\d+)", config.with_suffix(".log").read_text())
    assert final, "no final stats line for the burst stream"
    assert (int(final.group(1)), int(final.group(2))) == (BURST, 0)


async def scenario(broker: Mosquitto, config: Path) -> None:
    stack = contextlib.ExitStack()
    async with probe(broker.port, "edge/stats-01/stats") as client:
        try:
            runtime = await asyncio.to_thread(stack.enter_context, serve(config))

            def burst_done() -> bool:
                return bool(burst_counts(metrics(runtime))["completed"] == BURST)

            await asyncio.to_thread(wait_until, burst_done, 20, "the burst stream's results in /metrics")
            samples = await asyncio.to_thread(metrics, runtime)
            envelope = await stats_with(client, BURST)
            assert envelope["kind"] == "stats"
            assert envelope["stream"] == "_stats"
            stats = envelope["payload"]["runtime"]
            topic = stats["streams"]["burst"]
            assert {k: topic[k] for k in ("offered", "completed", "dropped", "drops")} == burst_counts(samples)
            assert topic["offered"] == topic["completed"] + topic["dropped"] == BURST
            assert "ticks" in stats["streams"]
            assert stats["lanes"][0]["name"].startswith("lane-")
            assert stats["watchdog"]["stalls"] == {}
            assert samples["edge_watchdog_lane_restarts_total"] == 0
            assert_thermal(stats["thermal"], samples)
            await asyncio.to_thread(passes_promtool, runtime)
            uplink = envelope["payload"]["uplink"]
            assert uplink["link"]["connected"] is True
            assert "oldest_age_s" in uplink["outbox"]

            broker.stop()  # the stats envelopes now wait in the outbox: its oldest entry ages
            stopped = time.monotonic()

            def aged() -> bool:
                return metrics(runtime)["edge_outbox_oldest_age_seconds"] >= 1.5

            await asyncio.to_thread(wait_until, aged, 20, "edge_outbox_oldest_age_seconds >= 1.5")
            status = await asyncio.to_thread(runtime.status)
            outbox = status["cloud"]["outbox"]
            assert outbox["entries"] > 0
            assert 1.5 <= outbox["oldest_age_s"] <= time.monotonic() - stopped + 5.0  # no older than the outage
            dom = await asyncio.to_thread(chromium, "--dump-dom", runtime.url)
            shown = re.search(r"outbox: (\d+) entries, \d+ bytes, oldest (\d+\.\d) s", dom)
            assert shown, "the console shows no outbox age"
            assert int(shown.group(1)) > 0
            assert float(shown.group(2)) >= 1.5
        finally:
            await asyncio.to_thread(stack.close)


def assert_thermal(thermal: dict[str, Any], samples: dict[str, float]) -> None:
    assert thermal["state"] == "warm"
    assert thermal["temps_c"] == {"cpu-thermal": 45.0}
    assert thermal["throttled"]["under_voltage"] is True
    assert thermal["throttled"]["throttled"] is True
    assert [(e["from"], e["to"]) for e in thermal["events"]] == [("normal", "warm")]
    assert samples['edge_thermal_state{state="warm"}'] == 1
    assert samples['edge_thermal_state{state="normal"}'] == 0
    assert samples['edge_thermal_temperature_celsius{zone="cpu-thermal"}'] == 45.0
    assert samples['edge_thermal_throttled{flag="under_voltage"}'] == 1
    assert samples['edge_thermal_changes_total{change="normal->warm"}'] == 1
    assert thermal["threads"] == 1
    assert samples["edge_thermal_thread_limit"] == 1
