"""Thermal degradation on a fake sysfs tree the test writes: the real runtime, a real model, two streams."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_runtime.config import load_config
from edge_runtime.config._thermal import ThermalConfig
from edge_runtime.drops import DropCounter
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import MemorySink
from edge_runtime.thermal import Readings, ThermalController, next_state, read

ROOT = Path(__file__).resolve().parents[2]
FPS = 20.0
SHARE = 0.25


def sysfs(root: Path, celsius: float, throttled: str | None = None) -> None:
    zone = root / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "type").write_text("cpu-thermal\n")
    tmp = zone / "temp.tmp"
    tmp.write_text(f"{int(celsius * 1000)}\n")
    tmp.replace(zone / "temp")
    if throttled is not None:
        flags = root / "devices" / "platform" / "soc" / "soc:firmware"
        flags.mkdir(parents=True, exist_ok=True)
        (flags / "get_throttled").write_text(throttled)


def test_readings_and_states_with_hysteresis(tmp_path: Path) -> None:
    sysfs(tmp_path, 71.5, throttled="0x50005")
    readings = read(tmp_path)
    assert readings.temps_c == {"cpu-thermal": 71.5}
    assert readings.flags() == {"under_voltage": True, "freq_capped": False, "throttled": True,
                                "soft_temp_limit": False}  # fmt: skip
    config = ThermalConfig(warm_c=70, hot_c=80, hysteresis_c=5)
    at = {c: Readings({"z": c}) for c in (50, 66, 72, 76, 81)}
    assert [next_state("normal", at[c], config) for c in (50, 66, 72, 81)] == ["normal", "normal", "warm", "hot"]
    assert [next_state("hot", at[c], config) for c in (81, 76, 72, 66, 50)] == ["hot", "hot", "warm", "warm", "normal"]
    assert next_state("normal", Readings({"z": 40.0}, throttled=0x4), config) == "warm"  # throttled now: warm
    assert read(tmp_path / "absent") == Readings()


def config_yaml(root: Path) -> str:
    model = f"{{path: {ROOT / 'models' / 'digits_uint8.tflite'}, decoder: {{type: classification, top_k: 1}}}}"
    source = f"{{type: synthetic, pattern: noise, width: 32, height: 32, fps: {FPS}}}"
    stream = "pipeline: [{type: infer, model: digits}]\n    sinks: [mem]"
    return f"""\
device: {{id: thermal-test}}
accelerator: {{threads: 1}}
models: {{digits: {model}}}
streams:
  high:
    source: {source}
    priority: high
    {stream}
  low:
    source: {source}
    priority: low
    {stream}
sinks: {{mem: {{type: memory}}}}
status: {{display: off}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
thermal:
  sysfs_root: {root}
  interval_s: 0.1
  warm_c: 70
  hot_c: 80
  hysteresis_c: 5
  warm: {{fps_factor: 0.5, classes: [low]}}
  hot: {{fps_factor: {SHARE}, classes: [low, normal]}}
"""


def rates(sink: MemorySink, start: float, end: float) -> dict[str, float]:
    done = [e for e in sink.envelopes if start <= e["ts_result"] < end]
    return {s: sum(1 for e in done if e["stream"] == s) / (end - start) for s in ("high", "low")}


def p99_ms(sink: MemorySink, start: float, end: float) -> float:
    done = [e for e in sink.envelopes if e["stream"] == "high" and start <= e["ts_result"] < end]
    lat = [e["ts_result"] - e["ts_capture"] for e in done]
    return float(np.percentile(lat, 99)) * 1e3


async def until(condition: Any, timeout: float) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "condition not reached"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def test_hot_sheds_the_low_stream_to_its_share_and_cool_restores_it_after_the_hysteresis(tmp_path: Path) -> None:
    sysfs(tmp_path / "sys", 45.0)
    path = tmp_path / "thermal.yaml"
    path.write_text(config_yaml(tmp_path / "sys"))
    runtime, service = build_runtime(load_config(path), tmp_path, display="off")
    sink = next(s for s in runtime.sinks if isinstance(s, MemorySink))
    assert all(parts.runner.direct for parts in runtime.streams)  # shedding is decided in the capture threads

    def state() -> str:
        return str(service.snapshot()["thermal"]["state"])

    async def scenario() -> None:
        task = asyncio.create_task(runtime.run())
        try:
            await asyncio.sleep(2.0)
            now = time.time()
            normal, normal_p99 = rates(sink, now - 1.5, now), p99_ms(sink, now - 1.5, now)
            sysfs(tmp_path / "sys", 85.0)
            t_hot = time.time()
            assert await until(lambda: state() == "hot", 2.0) < 2.0
            await asyncio.sleep(2.0)
            hot, hot_p99 = rates(sink, t_hot + 0.5, time.time()), p99_ms(sink, t_hot + 0.5, time.time())
            sysfs(tmp_path / "sys", 77.0)  # below hot_c but within the hysteresis: still hot
            await asyncio.sleep(0.6)
            assert state() == "hot"
            sysfs(tmp_path / "sys", 50.0)
            await until(lambda: state() == "normal", 2.0)
            t_cool = time.time()
            await asyncio.sleep(1.5)
            cool = rates(sink, t_cool + 0.3, time.time())
            print(f"\nfps normal {normal}, hot {hot}, cool {cool}; high p99 normal {normal_p99:.1f} ms,"
                  f" hot {hot_p99:.1f} ms")  # fmt: skip
            assert hot["low"] / normal["low"] == pytest.approx(SHARE, abs=0.1)
            assert hot["high"] >= 0.85 * normal["high"]
            assert cool["low"] >= 0.8 * normal["low"]
            snap = service.snapshot()
            assert snap["thermal"]["changes"] == {"normal->hot": 1, "hot->normal": 1}
            assert snap["streams"]["low"]["drops"] == {}  # shed before the accelerator: counted in the stream
            low = next(p.runner.stats for p in runtime.streams if p.runner.name == "low")
            assert low.drops.snapshot().get("thermal", 0) > 0
        finally:
            runtime.stop()
            await asyncio.wait_for(task, 10)

    asyncio.run(scenario())


def test_a_state_keeps_its_share_of_low_frames_never_touches_high_and_sets_the_lanes() -> None:
    config = ThermalConfig(hot={"fps_factor": 0.25, "classes": ["low"], "lanes": 1})
    lanes: list[int | None] = []
    controller = ThermalController(config, lambda stream: DropCounter(), lanes.append)
    controller.update(Readings({"cpu": 85.0}))
    assert controller.state == "hot"
    assert sum(controller.admit("cam", "low") for _ in range(100)) == 25
    assert all(controller.admit("door", "high") for _ in range(100))
    controller.update(Readings({"cpu": 50.0}))
    assert all(controller.admit("cam", "low") for _ in range(10))
    assert lanes == [1, None]
    assert controller.snapshot()["changes"] == {"normal->hot": 1, "hot->normal": 1}
