"""The plan's waits from given service times (pure arithmetic, no clock): fifo's wait is set by the in-flight and
queue bounds at overload, and a shed priority class's served jobs wait at most a frame interval or a deadline."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.plan import Plan, ServiceTime, predict
from edge_runtime.plan._predict import STREAM_JOBS

MODEL = Path(__file__).resolve().parents[2] / "models" / "mobilenet_v2_int8.tflite"
TIMES = {"net": ServiceTime(median_s=0.002, p99_s=0.003, runs=100)}


def plan_of(tmp_path: Path, accelerator: str, high_fps: float, low_fps: float, low_deadline_ms: float = 400) -> Plan:
    synthetic = "type: synthetic, pattern: noise, width: 224, height: 224"
    stream = "pipeline: [{type: infer, model: net}]\n    sinks: [mem]"
    path = tmp_path / "plan.yaml"
    path.write_text(f"""\
device: {{id: predict-test}}
accelerator: {{{accelerator}}}
models:
  net: {{path: {MODEL}, decoder: {{type: classification, top_k: 1}}}}
streams:
  high:
    source: {{{synthetic}, fps: {high_fps}}}
    priority: high
    deadline_ms: 200
    {stream}
  low:
    source: {{{synthetic}, fps: {low_fps}}}
    priority: low
    deadline_ms: {low_deadline_ms}
    {stream}
sinks:
  mem: {{type: memory}}
status: {{display: off}}
""")
    return predict(load_config(path), TIMES)


def waits(plan: Plan) -> dict[str, tuple[float, float]]:
    return {s.stream: (s.wait_s, s.served_wait_s) for s in plan.streams}


def test_fifo_at_overload_waits_behind_the_jobs_in_flight_whatever_the_rate(tmp_path: Path) -> None:
    # one job in service (p99), the rest of a saturated stream's in-flight jobs queued (median each)
    bound = 0.003 + (STREAM_JOBS - 1) * 0.002
    for low_fps in (1000, 5000):
        plan = plan_of(tmp_path, "policy: fifo", 30, low_fps)
        for wait, served in waits(plan).values():
            assert wait == pytest.approx(bound)
            assert served == wait
        assert plan.streams[1].served_fraction < 0.5


def test_fifo_below_capacity_waits_one_service_and_its_queue_bound_caps_it(tmp_path: Path) -> None:
    for wait, _ in waits(plan_of(tmp_path, "policy: fifo", 30, 30)).values():
        assert wait == pytest.approx(0.003)  # the other stream's job in service
    bounded = "policy: fifo, queue_bounds: {critical: 1, high: 1, normal: 1, low: 1}"
    for wait, _ in waits(plan_of(tmp_path, bounded, 30, 5000)).values():
        assert wait == pytest.approx(0.003 + 2 * 0.002)  # 4 queued at most: 3 ahead, one of them in service


def test_a_shed_priority_class_runs_its_newest_frame_within_a_frame_interval(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, "policy: priority, anticipate: false", 30, 1000)
    (high_wait, high_served), (low_wait, low_served) = waits(plan).values()
    assert high_wait == high_served == pytest.approx(0.003)  # one low job in service
    assert low_served == pytest.approx(1 / 1000)  # the next frame supersedes a job waiting longer
    assert low_wait == pytest.approx(0.003 + 0.002)  # its previous frame in service, one high frame
    assert low_served < low_wait
    assert plan.streams[1].served_fraction < 0.5


def test_a_starved_class_is_unbounded_but_what_runs_of_it_waited_at_most_its_deadline(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, "policy: priority", 600, 10, low_deadline_ms=50)
    low = plan.streams[1]
    assert math.isinf(low.wait_s)
    assert low.served_wait_s == pytest.approx(0.050)  # older ones are dropped stale
    assert low.served_fraction == 0
    assert not plan.fits


def test_a_reserved_lane_serves_its_class_at_once_and_low_waits_for_the_general_lane(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, "lanes: 2, reserve: {high: 1}", 30, 1000)
    (high_wait, _), (low_wait, low_served) = waits(plan).values()
    assert high_wait == 0.0  # only high jobs run on its lane, and one stream's frame is done before the next
    assert low_wait > 0
    assert low_served == pytest.approx(1 / 1000)


@pytest.mark.parametrize("alone", [True, False])
def test_a_reserved_lane_running_alone_takes_its_busy_time_from_the_lower_classes(tmp_path: Path, alone: bool) -> None:
    # high: 100 fps x 2 ms = 20% of its lane; low: 450 fps x 2 ms = 90% of the general lane
    plan = plan_of(tmp_path, f"lanes: 2, reserve: {{high: 1}}, reserved_alone: {str(alone).lower()}", 100, 450)
    high, low = plan.streams
    assert high.served_fraction == 1.0
    # alone: the general lane starts no low job while high runs, which leaves low 1 - 0.2 of it
    assert low.served_fraction == pytest.approx(0.8 / 0.9 if alone else 1.0)


@pytest.mark.parametrize(
    ("accelerator", "high_fps", "high_wait"),
    [
        ("policy: priority", 30, 0.003 - 0.5 * 0.002),  # a low job starts at most half of itself before high's frame
        ("policy: priority, anticipate: false", 30, 0.003),  # a whole low job in the way
        ("policy: priority", 100, 0.003),  # a 2 ms low job is 20% of high's period: not waited for
        ("lanes: 2, reserve: {high: 1}", 30, 0.0),  # high has its own lane: nothing to anticipate
    ],
)
def test_anticipation_bounds_what_a_lower_class_job_holds_a_periodic_stream_up(
    tmp_path: Path, accelerator: str, high_fps: float, high_wait: float
) -> None:
    plan = plan_of(tmp_path, accelerator, high_fps, 1000)
    assert plan.streams[0].wait_s == pytest.approx(high_wait)
