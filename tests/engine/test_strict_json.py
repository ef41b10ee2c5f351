"""Every envelope is strict JSON, in the JSONL file and on the MQTT topic: two readings of 1e308 in one window
give a mean that overflows to infinity; it is written as null and the envelope lists it under `non_finite`."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from paho.mqtt import publish

from cloud_sync.envelope import encode
from cloud_sync.strict_json import NON_FINITE
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from tests.cloud.support import Listener
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def strict_loads(line: str | bytes) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant} in {line[:200]!r}")

    return json.loads(line, parse_constant=refuse)


def test_encode_is_strict_and_flags_what_it_replaced() -> None:
    envelope = {"seq": 1, "payload": {"values": {"t": {"mean": float("inf"), "min": 1e308}}, "v": [float("nan"), 2]}}
    decoded = strict_loads(encode(envelope))
    assert decoded["payload"] == {"values": {"t": {"mean": None, "min": 1e308}}, "v": [None, 2]}
    assert decoded[NON_FINITE] == ["payload.values.t.mean", "payload.v.0"]
    assert NON_FINITE not in strict_loads(encode({"seq": 2, "payload": {"x": 1.5}}))


def test_an_overflowing_window_mean_is_null_in_the_file_and_on_the_wire(tmp_path: Path, mosquitto: Mosquitto) -> None:
    path = tmp_path / "device.yaml"
    path.write_text(
        f"""\
device: {{id: dev-01}}
streams:
  env:
    source: {{type: mqtt, host: 127.0.0.1, port: {mosquitto.port}, topic: 'sensors/#', qos: 1}}
    pipeline: [{{type: window, size_s: 1, grace_s: 0.1}}]
    sinks: [out, cloud]
sinks:
  out: {{type: jsonl, path: out.jsonl}}
cloud:
  mqtt: {{host: 127.0.0.1, port: {mosquitto.port}}}
  outbox: {{path: outbox.db}}
status: {{display: off}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
"""
    )
    listener = Listener(tmp_path, "--mqtt", f"127.0.0.1:{mosquitto.port}").start()
    runtime, _ = build_runtime(load_config(path), tmp_path, display="off")
    out = tmp_path / "out.jsonl"

    def windows() -> list[dict[str, Any]]:
        lines = out.read_text().splitlines() if out.exists() else []
        return [env for env in map(strict_loads, lines) if env["kind"] == "window" and env["payload"].get("values")]

    async def scenario() -> None:
        run = asyncio.create_task(runtime.run())
        deadline = time.monotonic() + 30
        while not runtime.streams[0].source.status().connected:
            assert time.monotonic() < deadline, "the mqtt source never connected"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(
            publish.multiple, [("sensors/a", "1e308", 1, False)] * 2, hostname="127.0.0.1", port=mosquitto.port
        )
        while not windows():
            assert time.monotonic() < deadline, "no window was written"
            await asyncio.sleep(0.1)
        runtime.stop()
        await run

    asyncio.run(scenario())
    [window] = windows()
    on_wire = [strict_loads(json.dumps(e)) for e in listener.wait_count(1, 10) if e["kind"] == "window"]
    listener.stop()
    stats = window["payload"]["values"]["value"]
    assert stats["count"] == 2
    assert stats["mean"] is None
    assert stats["max"] == 1e308
    assert "payload.values.value.mean" in window[NON_FINITE]
    assert on_wire[0]["payload"] == window["payload"]
    assert on_wire[0][NON_FINITE] == window[NON_FINITE]
    raw = (tmp_path / "listen.jsonl").read_text()
    assert "Infinity" not in raw
    assert "NaN" not in raw
