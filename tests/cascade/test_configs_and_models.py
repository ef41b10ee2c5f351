"""The shipped MediaPipe models as configured for the runtime, and cascade configs that must be refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge_runtime.cli import main
from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig, ModelError, load_model
from edge_runtime.sections import AcceleratorConfig
from tests.cascade.conftest import build, photo


@pytest.mark.parametrize(("name", "people"), [("astronaut", 1), ("camera", 1), ("chelsea", 0), ("coffee", 0)])
def test_person_detector_finds_the_people(models_yaml: str, name: str, people: int) -> None:
    entry = yaml.safe_load(models_yaml)["models"]["person"]
    handle = load_model("person", ModelConfig.model_validate(entry), AcceleratorConfig(threads=1), Path("/"))
    kind, payload = handle.instantiate().run(Frame("test", 0, 0.0, 0.0, photo(name)))
    assert kind == "detections"
    assert [d["label"] for d in payload["detections"]] == ["person"] * people


def _config(models_yaml: str, cascade: str) -> str:
    return f"""\
device: {{id: test-01}}
{models_yaml}
streams:
  front:
    source: {{type: synthetic, fps: 5}}
    pipeline:
      - {{type: infer, model: faces}}
      - {cascade}
"""


BAD = [
    (
        "a cycle of models",
        "{type: infer, model: person, on: {}}\n      - {type: infer, name: marks, model: faces, on: {}}",
        "streams.front.pipeline.2.model: a cycle of models: faces -> person -> faces",
    ),
    (
        "label the detector lacks",
        "{type: infer, model: face_landmarks, on: {labels: [face, cat]}}",
        "streams.front.pipeline.1.on.labels.1: model 'faces' has no label 'cat' (labels: face)",
    ),
    (
        "a model on itself",
        "{type: infer, name: again, model: faces, on: {labels: [face]}}",
        "streams.front.pipeline.1.model: a cycle of models: faces -> faces",
    ),
    (
        "cascade on a non-detector",
        "{type: infer, model: face_landmarks, on: {}}\n      - {type: infer, model: person, on: {}}",
        "streams.front.pipeline.2.on: a cascade runs on a detector's boxes; model 'face_landmarks' has a 'landmarks'",
    ),
    (
        "cascade after a post stage",
        "{type: filter}\n      - {type: infer, model: face_landmarks, on: {}}",
        "streams.front.pipeline.2: a cascade comes right after the detector's `infer` stage",
    ),
]


@pytest.mark.parametrize(("name", "cascade", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_cascade_configs_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], models_yaml: str, name: str, cascade: str, expected: str
) -> None:
    path = tmp_path / "cfg.yaml"
    text = _config(models_yaml, cascade)
    path.write_text(text)
    assert main(["validate", str(path)]) == 2, name
    (line,) = capsys.readouterr().err.strip().splitlines()
    file, number, _col, message = line.split(":", 3)
    assert file == str(path)
    entry = int(expected.split(".")[3].split(":", maxsplit=1)[0])  # streams.front.pipeline.N...
    pipeline = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "pipeline:")
    assert int(number) == pipeline + 1 + entry, line  # one line per stage
    assert message.strip().startswith(expected), line


def test_labels_from_a_file_are_checked_when_the_model_loads(tmp_path: Path, models_yaml: str) -> None:
    (tmp_path / "faces.txt").write_text("face\n")
    models = yaml.safe_load(models_yaml)
    models["models"]["faces"]["labels"] = str(tmp_path / "faces.txt")
    streams = "  front:\n    source: {type: synthetic, fps: 5}\n    pipeline:\n      - {type: infer, model: faces}\n"
    streams += "      - {type: infer, model: face_landmarks, on: {labels: [cat]}}\n    sinks: [mem]"
    with pytest.raises(ModelError, match=r"^streams\.front\.pipeline: cascade 'face_landmarks': model 'faces' has no"):
        build(tmp_path, yaml.safe_dump(models), streams)


GATE_BAD = [
    ("{type: sensor, stream: nowhere}", "streams.front.pipeline.0.stream: unknown stream 'nowhere'"),
    ("{type: sensor, stream: front}", "streams.front.pipeline.0.stream: a sensor gate cannot be fired by its own"),
    ("{type: sensor, hold: 5s}", "streams.front.pipeline.0: give one trigger"),
    ("{type: motion, zones: [[[0, 0], [2, 0], [1, 1]]]}", "streams.front.pipeline.0.zones: polygon points are"),
]


@pytest.mark.parametrize(("gate", "expected"), GATE_BAD, ids=[g[0] for g in GATE_BAD])
def test_bad_gate_configs_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], models_yaml: str, gate: str, expected: str
) -> None:
    path = tmp_path / "cfg.yaml"
    text = _config(models_yaml, "{type: filter}").replace(
        "      - {type: infer, model: faces}", f"      - {gate}\n      - {{type: infer, model: faces}}"
    )
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    pipeline = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "pipeline:")
    assert line.startswith(f"{path}:{pipeline + 1}:"), line
    assert expected in line, line
