"""`threads: auto`: lanes x threads never exceed the usable cores, and the choice is said."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge_runtime import sections
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sections import AcceleratorConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("cores", "lanes", "threads"), [(2, 1, 2), (2, 2, 1), (4, 2, 2), (8, 1, 4), (1, 3, 1)])
def test_auto_divides_the_usable_cores_among_the_lanes(
    monkeypatch: pytest.MonkeyPatch, cores: int, lanes: int, threads: int
) -> None:
    monkeypatch.setattr(sections, "usable_cores", lambda: cores)
    accel = AcceleratorConfig(lanes=lanes)
    assert accel.threads == "auto"
    assert accel.interpreter_threads == threads
    said = f"{lanes} lane(s) x {threads} interpreter thread(s) (auto: {cores} usable core(s) / {lanes} lane(s))"
    assert accel.threads_chosen() == said


def test_a_configured_count_is_kept() -> None:
    accel = AcceleratorConfig(threads=3, lanes=2)
    assert accel.interpreter_threads == 3
    assert accel.threads_chosen().endswith("(as configured)")


def test_the_runtime_says_what_it_chose_and_its_interpreters_use_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "auto.yaml"
    path.write_text(
        f"""\
device: {{id: auto}}
accelerator: {{lanes: 2}}
models:
  net: {{path: {ROOT / "models" / "mobilenet_v2_int8.tflite"}, decoder: {{type: classification}}}}
streams:
  cam:
    source: {{type: synthetic, fps: 5, count: 1}}
    pipeline: [{{type: infer, model: net}}]
    sinks: [out]
sinks:
  out: {{type: memory}}
status: {{display: off}}
http: {{enabled: false}}
"""
    )
    config = load_config(path)
    with caplog.at_level(logging.INFO):
        _, service = build_runtime(config, tmp_path, display="off")
    chosen = config.accelerator.interpreter_threads
    assert chosen == max(1, min(4, sections.usable_cores() // 2))
    assert f"accelerator: 2 lane(s) x {chosen} interpreter thread(s) (auto:" in caplog.text
    assert service.snapshot()["threads"] == chosen
    runner = service.model("net").instantiate()
    assert runner.model.accel.interpreter_threads == chosen  # type: ignore[attr-defined]


def test_a_bad_value_is_one_line(tmp_path: Path) -> None:
    from edge_runtime.config import ConfigError

    path = tmp_path / "bad.yaml"
    path.write_text(
        "device: {id: x}\naccelerator: {threads: many}\nstreams:\n  s:\n    source: {type: synthetic}\n"
        "    sinks: [out]\nsinks:\n  out: {type: memory}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    said = "bad.yaml:2:15: accelerator.threads: must be a whole number from 1 to 64, or auto (got 'many')"
    assert str(err.value).endswith(said)
