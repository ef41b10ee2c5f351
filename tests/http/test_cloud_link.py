"""The cloud link and outbox as /metrics, /api/status and /healthz show them, with a real mosquitto that the
test stops: the link goes down, the outbox fills, /healthz turns 503 after `http.link_down_s`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.http.support import Served, serve, ticks_config, wait_until
from tests.support.mosquitto import Mosquitto


def metric(runtime: Served, name: str) -> float:
    text = runtime.get("metrics")[1].decode()
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


@pytest.mark.broker
def test_link_and_outbox_in_metrics_status_and_health(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    broker.start()
    config = tmp_path / "cloud.yaml"
    config.write_text(
        ticks_config("cloud-01", fps=20).replace("sinks: []", "sinks: [cloud]")
        + f"cloud: {{mqtt: {{host: 127.0.0.1, port: {broker.port}, backoff_max: 1}}, "
        f"outbox: {{path: {tmp_path / 'outbox.db'}}}}}\n"
        + 'http: {listen: "127.0.0.1:${env:EDGE_HTTP_PORT,8080}", link_down_s: 1.5}\n'
    )
    try:
        with serve(config) as runtime:
            wait_until(lambda: metric(runtime, "edge_uplink_published_total") > 20, 20, "results delivered")
            assert metric(runtime, "edge_link_up") == 1.0
            published = metric(runtime, "edge_uplink_published_total")
            assert runtime.status()["cloud"]["delivered"] >= published  # read after: never behind the metric
            assert runtime.get("healthz") == (200, b"ok\n")
            broker.stop()
            wait_until(lambda: runtime.get("healthz")[0] == 503, 20, "/healthz to turn 503")
            assert runtime.get("healthz")[1].decode().startswith("cloud link down for ")
            assert metric(runtime, "edge_link_up") == 0.0
            wait_until(lambda: metric(runtime, "edge_outbox_entries") > 0, 10, "a backlog in the outbox")
            assert runtime.status()["cloud"]["outbox"]["entries"] > 0
    finally:
        broker.stop()
