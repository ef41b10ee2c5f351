"""`edge-runtime bench` runs end to end on the real MobileNet model and writes figures that make sense.

No timing assertions: the figures depend on the machine. This checks that every part ran, that the JSON has
the fields the report promises, and that the counts are consistent with each other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`edge-runtime bench ARGS` in a child process, writing to `tmp_path`: what it printed, and its bench.json."""
    done = subprocess.run(
        [sys.executable, "-m", "edge_runtime", "bench", *args, "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done, json.loads((tmp_path / "bench.json").read_text())


@pytest.mark.timeout(120)
def test_bench_overhead_and_overload_write_sane_json(tmp_path: Path) -> None:
    done, results = bench(tmp_path, "--seconds", "2", "--only", "overhead", "overload", "--profile")
    assert "overhead" in done.stdout
    profile = done.stdout.split("event loop thread, top functions by own time (cProfile):\n")[1].splitlines()
    assert profile[0].split() == ["ncalls", "tottime", "percall", "cumtime", "percall", "filename:lineno(function)"]
    assert any("_run_once" in line for line in profile[1:16])  # the loop's own thread was profiled
    assert "policy priority" in done.stdout
    assert results["service_time_ms"] > 0
    _check_overhead(results["overhead"])
    for policy in ("fifo", "priority"):
        _check_overload(results[policy], policy)
    _check_overload(results["priority_not_anticipated"], "priority")
    anticipated = [results[k]["anticipate"] for k in ("fifo", "priority", "priority_not_anticipated")]
    assert anticipated == [None, True, False]  # the priority case with the accelerator's `anticipate` on and off
    assert "anticipate: high p99" in done.stdout
    floor = results["priority"]["floor"]  # the same arrivals on one bare lane: at 30 fps for 2 s, ~60 frames
    assert floor["lanes"] == 1
    assert 50 <= floor["frames"] <= 61
    assert 0.5 < floor["p50_S"] <= floor["p99_S"] <= floor["max_S"]  # each high frame runs the model once
    assert "raw floor, 1 bare lane(s)" in done.stdout


@pytest.mark.timeout(120)
def test_bench_lanes_runs_the_reserved_case_with_and_without_reserved_alone_beside_two_floors(tmp_path: Path) -> None:
    done, results = bench(tmp_path, "--seconds", "2", "--only", "lanes")
    case, beside = results["lanes"], results["lanes_not_alone"]  # reserved_alone on, and off
    for each, alone in ((case, True), (beside, False)):
        _check_overload(each, "priority")
        assert (each["lanes"], each["reserve"], each["reserved_alone"]) == (2, {"high": 1}, alone)
    assert "reserved_alone: high p99" in done.stdout
    with_low, high_only = case["floor"], case["floor_alone"]  # with a low invoke on the other lane, and with none
    assert (with_low["low"], high_only["low"]) == (True, False)
    for floor in (with_low, high_only):
        assert 50 <= floor["frames"] <= 61
        assert 0.5 < floor["p50_S"] <= floor["p99_S"] <= floor["max_S"]
        assert 0.5 < floor["p99_interval_S"][0] <= floor["p99_interval_S"][1] <= floor["max_S"] + 1e-9
    assert "raw floor, 2 bare lane(s)" in done.stdout
    assert "raw floor, high alone, nothing beside it" in done.stdout


def _check_overhead(o: dict[str, Any]) -> None:
    for loop in ("raw", "raw_run", "runtime"):
        assert o[loop]["median_us"] > 0
        assert o[loop]["fps"] > 0
    assert o["raw"]["median_us"] < o["hops"]["median_us"]  # the hops run the frame: never below the raw invoke
    assert "fps" not in o["hops"]  # a latency floor only
    assert o["hops_us"] == pytest.approx(o["hops"]["median_us"] - o["raw_run"]["median_us"])
    assert o["hops_floor_us"] == pytest.approx(o["hops"]["median_us"] - o["raw"]["median_us"])
    assert o["runtime_own_us"] + o["hops_floor_us"] == pytest.approx(o["overhead_us"])
    assert o["throughput_ratio"] == pytest.approx(o["runtime"]["fps"] / o["raw"]["fps"])
    assert o["overhead_us"] == pytest.approx(o["runtime"]["median_us"] - o["raw"]["median_us"])
    assert o["pre_post_us"] + o["path_us"] == pytest.approx(o["overhead_us"])


def _check_overload(case: dict[str, Any], policy: str) -> None:
    assert case["policy"] == policy
    assert case["service_time_ms"] > 0
    assert case["loaded_service_time_ms"] > 0
    assert set(case["classes"]) == {"high", "low"}
    for name, c in case["classes"].items():
        assert c["completed"] > 0, name
        assert c["completed"] <= c["offered"], name
        assert len(c["latencies_ms"]) == c["completed"], name
        assert 0 < c["p50_S"] <= c["p99_S"] <= c["max_S"], name
        low, high = c["p99_interval_S"]  # the p99's bootstrap interval: within the frames seen
        assert min(c["latencies_ms"]) <= low * case["service_time_ms"] <= high * case["service_time_ms"], name
        assert high <= c["max_S"] + 1e-9, name
        assert 0 <= c["drop_pct"] <= 100, name
    assert case["classes"]["low"]["offered"] > case["classes"]["high"]["offered"]
    assert case["low_share_of_left"] > 0


@pytest.mark.timeout(120)
def test_bench_memory_measures_the_runtime_as_started_and_with_an_http_client(tmp_path: Path) -> None:
    done, results = bench(tmp_path, "--only", "memory")
    assert results["rss_4_streams_mib"] > 0
    assert results["rss_4_streams_http_client_mib"] > 0
    assert "once a client used the HTTP server" in done.stdout


@pytest.mark.timeout(120)
def test_bench_uplink_runs_idle_and_busy_against_a_real_mosquitto(tmp_path: Path) -> None:
    done, results = bench(tmp_path, "--seconds", "1", "--only", "uplink")
    result = results["uplink"]
    cases = result["cases"]
    assert set(cases) == {"alone", "idle", "broker", "busy"}
    for name, case in cases.items():
        assert case["high_results"] > 0, name
        low, high = case["p99_interval_ms"]
        assert 0 < low <= high, name
    assert cases["busy"]["uplink"]["delivered"] > 0  # the readings went to the broker
    assert cases["busy"]["uplink"]["drops"] == {}
    low, high = result["p99_busy_over_idle_interval"]
    assert 0 < low <= high
    assert result["p99_busy_over_idle"] == pytest.approx(cases["busy"]["p99_ms"] / cases["idle"]["p99_ms"])
    # busy over idle, split at the broker case (a paho client in another process loading the same mosquitto)
    split = result["p99_broker_over_idle"] * result["p99_busy_over_broker"]
    assert split == pytest.approx(result["p99_busy_over_idle"])
    assert cases["broker"]["readings_per_s"] > 0  # the runtime carried the readings, to memory
    assert cases["broker"]["load_published"] > 1000  # ~2000/s from the other process for 2 x 2 s, acknowledged
    assert "of which the runtime's own uplink" in done.stdout
    assert "busy/idle: p50" in done.stdout
