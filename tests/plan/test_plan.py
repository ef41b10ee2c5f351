"""`edge-runtime plan` on a config that fits and on one at twice a lane's capacity, and the prediction beside a
measured run of that config (real model, real runtime, synthetic sources)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from edge_runtime.cli import main
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.plan import ServiceTime, as_json, predict, service_times

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "mobilenet_v2_int8.tflite"
HIGH_FPS = 30.0


def config_yaml(low_fps: float, deadline_ms: float = 200.0) -> str:
    synthetic = "type: synthetic, pattern: noise, width: 224, height: 224"
    infer = "pipeline: [{type: infer, model: net}]\n    sinks: [mem]"
    return f"""\
device: {{id: plan-test}}
accelerator: {{threads: 1, lanes: 1}}
models:
  net: {{path: {MODEL}, decoder: {{type: classification, top_k: 1}}, input: {{resize: stretch}}}}
streams:
  high:
    source: {{{synthetic}, fps: {HIGH_FPS}}}
    priority: high
    deadline_ms: {deadline_ms}
    {infer}
  low:
    source: {{{synthetic}, fps: {low_fps:.1f}}}
    priority: low
    deadline_ms: {2 * deadline_ms}
    {infer}
sinks:
  mem: {{type: memory, capacity: 100000}}
status: {{display: off}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
"""


def plan(path: Path, cache: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["plan", str(path), "--cache", str(cache), "--seconds", "0.5", *extra])
    return code, capsys.readouterr().out


def test_a_config_that_fits_exits_0_and_the_second_plan_uses_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "edge_runtime.plan")
    caplog.set_level(logging.INFO, "edge_runtime.inference")
    path = tmp_path / "fits.yaml"
    path.write_text(config_yaml(low_fps=5))
    code, out = plan(path, tmp_path / "cache", capsys)
    assert code == 0, out
    assert "fits: every deadline holds" in out
    assert [line.split()[0] for line in out.splitlines()[2:4]] == ["high", "low"]
    assert caplog.text.count("measuring model 'net'") == 1  # two streams use it: measured once
    caplog.clear()
    code, out = plan(path, tmp_path / "cache", capsys, "--json")
    assert code == 0
    assert "measuring" not in caplog.text  # cached by sha256, threads and delegate
    assert "loaded v1" not in caplog.text  # a cache hit opens no interpreter (the runtime's plan at start neither)
    figures = json.loads(out)
    assert figures["fits"] is True
    assert [s["verdict"] for s in figures["streams"]] == ["ok", "ok"]
    _, out = plan(path, tmp_path / "cache", capsys, "--json", "--runs", "net=3")  # a cascade: 3 crops per frame
    tripled = json.loads(out)["streams"][0]["service_ms"]
    assert tripled == pytest.approx(3 * figures["streams"][0]["service_ms"], rel=0.01)
    assert main(["plan", str(path), "--cache", str(tmp_path / "cache"), "--runs", "nope=2"]) == 2
    assert capsys.readouterr().err == "--runs: 'nope=2': no model 'nope' in the config\n"
    cached = json.loads((tmp_path / "cache" / "service.json").read_text())
    assert len(cached) == 1
    assert next(iter(cached)).endswith(":1:xnnpack")


def test_twice_a_lanes_capacity_exits_1_names_the_low_stream_and_matches_a_measured_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fits = tmp_path / "fits.yaml"
    fits.write_text(config_yaml(low_fps=5))
    times = service_times(load_config(fits), tmp_path, tmp_path / "cache", seconds=0.5)
    capacity = 1.0 / times["net"].median_s
    low_fps = 2 * capacity - HIGH_FPS
    path = tmp_path / "twice.yaml"
    path.write_text(config_yaml(low_fps=low_fps))
    code, out = plan(path, tmp_path / "cache", capsys)
    assert code == 1, out
    shed = [line for line in out.splitlines() if line.strip().startswith("stream 'low'")]
    assert len(shed) == 1, out
    assert "will be shed" in shed[0]
    assert "stream 'high'" not in out.split("does not fit:")[1]
    figures = as_json(predict(load_config(path), times))
    predicted = {s["stream"]: s for s in figures["streams"]}
    assert predicted["low"]["served_fraction"] == pytest.approx(0.5, abs=0.05)
    assert predicted["high"]["fits"] is True

    runtime, service = build_runtime(load_config(path), tmp_path, display="off")
    asyncio.run(runtime.run(3.0))
    measured = service.snapshot()["streams"]
    high, low = measured["high"], measured["low"]
    service = low["service"]
    loaded = ServiceTime(service["p50_ms"] / 1e3, service["p99_ms"] / 1e3, low["completed"])
    again = {s.stream: s for s in predict(load_config(path), {"net": loaded}).streams}
    print(
        f"\nplan vs measured run (S = {times['net'].median_s * 1e3:.2f} ms, low offered {low_fps:.0f} fps):"
        f"\n  high: predicted worst wait {predicted['high']['wait_ms']:.2f} ms,"
        f" measured p99 {high['queue_wait']['p99_ms']:.2f} ms, max {high['queue_wait']['max_ms']:.2f} ms"
        f"\n  service during the run: p50 {service['p50_ms']:.2f} ms, p99 {service['p99_ms']:.2f} ms;"
        f" the plan with these: high worst wait {again['high'].wait_s * 1e3:.2f} ms"
        f"\n  low: predicted served {predicted['low']['served_fraction']:.0%},"
        f" measured {low['completed'] / max(low['submitted'], 1):.0%} ({low['completed']} of {low['submitted']})"
    )
    assert high["completed"] > 0
    assert sum(low["drops"].values()) > 0  # the low stream is shed, as planned
