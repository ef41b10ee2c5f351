"""`edge-runtime validate`: every bad config gives its one line, with the right line number, and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_runtime.cli import main

MODEL = Path(__file__).resolve().parents[2] / "models" / "digits_uint8.tflite"

GOOD = f"""\
device: {{id: test-01}}
models:
  digits:
    path: {MODEL}
    labels: [zero, one, two, three, four, five, six, seven, eight, nine]
    decoder: {{type: classification}}
streams:
  front:
    source: {{type: synthetic, fps: 5}}
    pipeline:
      - {{type: infer, model: digits}}
"""


def run_validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


def test_good_config_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_validate(tmp_path, GOOD, capsys)
    assert (code, err) == (0, [])


CASES = [
    ("unknown key", GOOD.replace("fps: 5}", "fps: 5, fsp: 3}"), 9, "streams.front.source.fsp: unknown key"),
    ("wrong type", GOOD.replace("fps: 5", "fps: fast"), 9, "streams.front.source.fps:"),
    (
        "bad enum",
        GOOD.replace("    pipeline:", "    priority: urgent\n    pipeline:"),
        10,
        "streams.front.priority: must be one of",
    ),
    ("negative fps", GOOD.replace("fps: 5", "fps: -5"), 9, "streams.front.source.fps: must be > 0 (got -5)"),
    ("zero fps", GOOD.replace("fps: 5", "fps: 0"), 9, "streams.front.source.fps: must be > 0 (got 0)"),
    (
        "duplicate stream",
        GOOD + "  front:\n    source: {type: synthetic, fps: 1}\n",
        12,
        "streams.front: duplicate key 'front'",
    ),
    ("unknown stage", GOOD.replace("{type: infer, model: digits}", "{type: detekt}"), 11, "unknown type 'detekt'"),
    ("unknown model", GOOD.replace("model: digits}", "model: faces}"), 11, "unknown model 'faces' (models: digits)"),
    ("missing model file", GOOD.replace(str(MODEL), "/nonexistent/m.tflite"), 4, "model file not found"),
    (
        "unset env var",
        GOOD.replace("{id: test-01}", "\n  id: ${env:EDGE_TEST_UNSET_VAR}"),
        2,
        "EDGE_TEST_UNSET_VAR is not set",
    ),
    ("tabs", GOOD.replace("  front:", "\tfront:"), 8, "invalid YAML"),
    ("invalid yaml", GOOD.replace("fps: 5}", "fps: 5"), 10, "invalid YAML"),
    ("empty file", "", 1, "the file is empty"),
]


@pytest.mark.parametrize(("name", "text", "line", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_config_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, line: int, expected: str
) -> None:
    code, err = run_validate(tmp_path, text, capsys)
    assert code == 2, name
    assert len(err) == 1, err
    file, lineno, col, message = err[0].split(":", 3)
    assert file.endswith("cfg.yaml")
    assert int(lineno) == line, err[0]
    assert int(col) >= 1
    assert expected in message, err[0]


def test_env_default_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _ = run_validate(tmp_path, GOOD.replace("test-01", "'${env:EDGE_TEST_UNSET_VAR,dflt-01}'"), capsys)
    assert code == 0
    monkeypatch.setenv("EDGE_TEST_SET_VAR", "bad/id")
    code, err = run_validate(tmp_path, GOOD.replace("test-01", "'${env:EDGE_TEST_SET_VAR}'"), capsys)
    assert code == 2
    assert "device.id: device id 'bad/id' must be" in err[0]


def test_several_problems_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("fps: 5", "fps: -1").replace("model: digits}", "model: digits, extra: 1}")
    code, err = run_validate(tmp_path, text, capsys)
    assert code == 2
    assert len(err) == 2, err


def test_named_pipeline_errors_point_into_the_pipeline_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "p.yaml").write_text("stages:\n  - type: infer\n    model: digits\n    colour: red\n")
    text = GOOD.replace("    pipeline:\n      - {type: infer, model: digits}\n", "    pipeline: p\n")
    code, err = run_validate(tmp_path, text, capsys)
    assert code == 2
    assert err[0].startswith(f"{tmp_path / 'pipelines' / 'p.yaml'}:4:5: ")
    code, err = run_validate(tmp_path, text.replace("pipeline: p", "pipeline: nope"), capsys)
    assert code == 2
    assert "unknown pipeline 'nope'" in err[0]


def test_cli_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("streams: [1, 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "edge_runtime", "validate", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "streams" in schema["properties"]
    assert "$defs" in schema


MORE_CASES = [
    (
        "infer not first",
        GOOD.replace(
            "      - {type: infer, model: digits}\n", "      - {type: filter}\n      - {type: infer, model: digits}\n"
        ),
        12,
        "at most one `infer` stage, and it comes first",
    ),
    (
        "two infer stages",
        GOOD.replace(
            "      - {type: infer, model: digits}\n",
            "      - {type: infer, model: digits}\n      - {type: infer, name: again, model: digits}\n",
        ),
        12,
        "at most one `infer` stage",
    ),
    ("sink listed twice", GOOD + "    sinks: [console, console]\n", 12, "sink 'console' is listed twice"),
    (
        "queue bound zero",
        GOOD + "accelerator: {queue_bounds: {high: 0}}\n",
        12,
        "accelerator.queue_bounds.high: must be >= 1",
    ),
    ("negative reserve", GOOD + "accelerator: {reserve: {critical: -3}}\n", 12, "must be >= 0"),
    (
        "bad mqtt filter",
        GOOD.replace("{type: synthetic, fps: 5}", "{type: mqtt, topic: 'a/#/b'}"),
        9,
        "not an MQTT topic filter",
    ),
    ("recursive alias", GOOD + "status: &a {interval_s: *a}\n", 12, "recursive alias"),
]


@pytest.mark.parametrize(("name", "text", "line", "expected"), MORE_CASES, ids=[c[0] for c in MORE_CASES])
def test_more_bad_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, line: int, expected: str
) -> None:
    code, err = run_validate(tmp_path, text, capsys)
    assert code == 2, name
    assert len(err) == 1, err
    assert int(err[0].split(":")[1]) == line, err[0]
    assert expected in err[0], err[0]


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.encode() + "# café\n".encode("latin-1"))
    proc = subprocess.run(
        [sys.executable, "-m", "edge_runtime", "validate", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{path}:12:1: not UTF-8 text (byte {len(GOOD.encode()) + 5})"


def test_the_former_model_endpoint_key_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cloud = "cloud:\n  zmq: {endpoint: 'tcp://127.0.0.1:5555'}\n  models: {zmq_endpoint: 'tcp://127.0.0.1:5560'}\n"
    code, err = run_validate(tmp_path, GOOD + cloud, capsys)
    assert code == 2
    assert len(err) == 1, err
    for part in ("cloud.models", "zmq_endpoint is gone", "--relay-bind"):
        assert part in err[0], err
