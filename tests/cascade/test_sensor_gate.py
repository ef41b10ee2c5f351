"""The sensor gate driven by a real mosquitto: closed, no invokes; a PIR's `ON`, invokes for `hold` seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_runtime.config import load_config
from edge_runtime.engine import StreamRunner, build_runtime
from edge_runtime.engine._runtime import Runtime
from edge_runtime.frames import Frame
from edge_runtime.gates import SensorGate, SensorGateConfig
from edge_runtime.gates.sensor import GateTrigger
from edge_runtime.reload import Reloader
from edge_runtime.sinks import MemorySink
from tests.cascade.conftest import build
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe

HOLD_S = 1.5


def _runtime(tmp_path: Path, models_yaml: str, gate: str, extra_stream: str = "") -> tuple[Runtime, MemorySink]:
    porch = f"""\
  porch:
    source: {{type: synthetic, fps: 20, width: 160, height: 120}}
    pipeline:
      - {gate}
      - {{type: infer, model: faces}}
    sinks: [mem]
{extra_stream}"""
    return build(tmp_path, models_yaml, porch)


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_closed_without_the_sensor_open_for_hold_after_on(
    tmp_path: Path, models_yaml: str, mosquitto: Mosquitto
) -> None:
    gate = f"{{type: sensor, hold: {HOLD_S}s, mqtt: {{host: 127.0.0.1, port: {mosquitto.port}, topic: porch/pir}}}}"
    runtime, memory = _runtime(tmp_path, models_yaml, gate)
    stats = runtime.streams[0].runner.stats

    async def scenario() -> float:
        task = asyncio.create_task(runtime.run())
        await _until(lambda: stats.gated >= 20, 10)
        assert stats.completed == 0  # closed: nothing reached the accelerator
        async with probe(mosquitto.port) as client:
            started = fired = time.time()
            while stats.completed == 0:  # until the gate's subscription is up and has seen one
                assert time.time() - started < 10, "the gate never opened"
                fired = time.time()
                await client.publish("porch/pir", b"ON")
                await asyncio.sleep(0.2)
        closed_at = stats.gated
        await _until(lambda: stats.gated > closed_at + 10, HOLD_S + 10)
        runtime.stop()
        await task
        return fired

    fired = asyncio.run(scenario())
    captured = [e["ts_capture"] for e in memory.envelopes]
    assert captured
    assert max(captured) <= fired + HOLD_S + 0.3  # closed again after hold
    assert max(captured) >= fired + HOLD_S - 0.5  # ...and open all through it
    assert len(captured) >= 20 * (HOLD_S - 0.5)
    assert stats.offered == stats.completed + stats.gated + stats.drops.total


def test_opened_by_another_streams_results(tmp_path: Path, models_yaml: str) -> None:
    gate = f"{{type: sensor, hold: {HOLD_S}s, stream: door, kinds: [reading]}}"
    door = """\
  door:
    source: {type: synthetic, kind: readings, fps: 2, count: 1}
    sinks: [mem]"""
    runtime, memory = _runtime(tmp_path, models_yaml, gate, door)
    stats = runtime.streams[0].runner.stats
    asyncio.run(runtime.run(duration=HOLD_S + 2.0))
    (reading,) = [e["ts_result"] for e in memory.envelopes if e["stream"] == "door"]
    captured = [e["ts_capture"] for e in memory.envelopes if e["stream"] == "porch"]
    assert len(captured) == stats.completed > 5
    assert min(captured) >= reading - 0.3  # nothing well before the door's reading (a frame may be in the gate)
    assert max(captured) <= reading + HOLD_S + 0.1  # closed again after hold...
    assert max(captured) >= reading + HOLD_S - 0.5  # ...and open all through it
    assert stats.gated > 10
    assert stats.offered == stats.completed + stats.gated + stats.drops.total


def test_json_field_above_threshold_opens_bad_or_huge_messages_do_not() -> None:
    config = SensorGateConfig.model_validate(
        {"type": "sensor", "hold": "2s", "mqtt": {"topic": "t", "field": "env.motion", "above": 0.5}}
    )
    gate = SensorGate(config, "porch")
    frame = Frame("porch", 0, 0.0, 0.0, np.zeros((4, 4, 3), np.uint8))
    for payload in (b'{"env": {"motion": 0.2}}', b"{not json", b"ON", b'{"env": {"motion": 9}}' + b" " * 5000):
        gate.on_message("t", payload)
        assert not gate.opens(frame, time.monotonic())
    gate.on_message("t", b'{"env": {"motion": 0.9}}')
    assert gate.opens(frame, time.monotonic())
    assert not gate.opens(frame, time.monotonic() + 2.1)


def test_a_reload_wires_the_streams_it_starts_to_the_sensor_gates_and_forgets_the_removed_ones(
    tmp_path: Path, models_yaml: str
) -> None:
    asyncio.run(_reload_gates(tmp_path, models_yaml))


def _gated_config(tmp_path: Path, models_yaml: str, door_fps: int, porches: list[str]) -> Path:
    gate = f"{{type: sensor, hold: {HOLD_S}s, stream: door, kinds: [reading]}}"
    streams = (
        f"  door:\n    source: {{type: synthetic, kind: readings, fps: {door_fps}}}\n    sinks: [mem]\n"
        + "".join(
            f"""\
  {name}:
    source: {{type: synthetic, fps: 10, width: 160, height: 120}}
    pipeline: [{gate}, {{type: infer, model: faces}}]
    sinks: [mem]
"""
            for name in porches
        )
    )
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"device: {{id: test-01}}\naccelerator: {{threads: 1}}\n{models_yaml}\nstreams:\n{streams}"
        "sinks:\n  mem: {type: memory}\nstatus: {display: off}\n"
    )
    return cfg


async def _reload_gates(tmp_path: Path, models_yaml: str) -> None:
    cfg = _gated_config(tmp_path, models_yaml, 4, ["porch"])
    runtime, service = build_runtime(load_config(cfg), cfg.parent, display="off", config_path=cfg)
    reloader: Reloader = runtime.background["reload"].__self__  # type: ignore[attr-defined]

    def runner(name: str) -> StreamRunner:
        return next(p.runner for p in runtime.streams if p.runner.name == name)

    def triggers() -> list[str]:
        return sorted(s.gate.stream for s in runner("door").sinks if isinstance(s, GateTrigger))

    task = asyncio.create_task(runtime.run())
    try:
        await _until(lambda: runner("porch").stats.completed > 0, 15)  # door's readings open porch's gate
        # door changed (a new runner), porch2 added with a gate on door
        _gated_config(tmp_path, models_yaml, 5, ["porch", "porch2"])
        assert await asyncio.wait_for(reloader.reload(), 20) == []
        assert triggers() == ["porch", "porch2"]
        before = runner("porch").stats.completed
        await _until(lambda: runner("porch2").stats.completed > 0 and runner("porch").stats.completed > before, 15)
        _gated_config(tmp_path, models_yaml, 5, ["porch"])  # porch2 removed: door fires it no more
        assert await asyncio.wait_for(reloader.reload(), 20) == []
        assert triggers() == ["porch"]
        assert set(service.snapshot()["streams"]) == {"porch"}  # the scheduler forgot porch2 too
    finally:
        runtime.stop()
        await asyncio.wait_for(task, 15)
