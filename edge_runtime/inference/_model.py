"""Loading a model (every check at load, one line on failure) and running it: ModelHandle and Runner."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.frames import Frame
from edge_runtime.inference._config import ModelConfig
from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._geometry import Geometry
from edge_runtime.inference._interpreter import LiteInterpreter
from edge_runtime.inference._labels import metadata_labels, read_labels
from edge_runtime.inference._preprocess import InputPlan, Preprocessor, resolve_input
from edge_runtime.inference.decoders import (
    Classes,
    Decoded,
    Decoder,
    Landmarks,
    ModelIO,
    build_decoder,
    input_defaults,
)
from edge_runtime.jobs import Runner
from edge_runtime.results import ModelRef
from edge_runtime.sections import AcceleratorConfig

log = logging.getLogger("edge_runtime.inference")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """What every runner of one model version shares, settled at load."""

    name: str
    path: Path
    where: str
    config: ModelConfig
    accel: AcceleratorConfig
    ref: ModelRef
    plan: InputPlan
    decoder: Decoder
    labels: tuple[str, ...] | None

    def label(self, class_id: int) -> str:
        if self.labels is not None and 0 <= class_id < len(self.labels):
            return self.labels[class_id]
        return str(class_id)


class TfliteRunner(Runner):
    """One interpreter of a model: preprocess, invoke, decode. Used by one thread at a time."""

    def __init__(self, model: LoadedModel, interpreter: LiteInterpreter | None = None) -> None:
        self.model = model
        self.interpreter = interpreter or LiteInterpreter(model.path, model.accel, model.where)
        self._preprocess = Preprocessor(model.plan)
        self._buffer = self.interpreter.input_buffer()

    def preprocess(self, frame: Frame) -> Geometry:
        return self._preprocess(frame.image, self._buffer)

    def invoke(self) -> None:
        self.interpreter.invoke()

    def decode(self, geometry: Geometry) -> tuple[str, dict[str, Any]]:
        decoded = self.model.decoder.decode(self.interpreter.outputs_float())
        return payload_of(decoded, geometry, self.model)


def payload_of(decoded: Decoded, geometry: Geometry, model: LoadedModel) -> tuple[str, dict[str, Any]]:
    """Decoder output as the result payload: labels, scores and boxes rounded to 4 places."""
    if isinstance(decoded, Classes):
        classes = [
            {"label": model.label(int(c)), "score": round(float(s), 4), "class_id": int(c)}
            for s, c in zip(decoded.scores, decoded.class_ids, strict=True)
        ]
        return "classification", {"classes": classes}
    if isinstance(decoded, Landmarks):
        return "landmarks", landmarks_payload(decoded, geometry)
    boxes = geometry.to_original(decoded.boxes)
    detections = [
        {
            "label": model.label(int(c)),
            "score": round(float(s), 4),
            "box": [round(float(v), 4) for v in box],
            "class_id": int(c),
        }
        for box, s, c in zip(boxes, decoded.scores, decoded.class_ids, strict=True)
    ]
    return "detections", {"detections": detections}


def landmarks_payload(decoded: Landmarks, geometry: Geometry) -> dict[str, Any]:
    """Points on the frame the model saw, rounded to 4 places, and the presence score when the model has one."""
    points = geometry.points_to_original(decoded.points)
    payload: dict[str, Any] = {"points": [[round(float(v), 4) for v in p] for p in points]}
    if decoded.presence is not None:
        payload["presence"] = round(decoded.presence, 4)
    return payload


class TfliteModelHandle:
    """A loaded, verified model version; hands out runners (the first is the interpreter opened at load)."""

    def __init__(
        self, model: LoadedModel, first: TfliteRunner | None, configured: AcceleratorConfig | None = None
    ) -> None:
        self.model = model
        self.configured = configured or model.accel  # the config's accelerator settings (threads included)
        self._first: TfliteRunner | None = first
        self._lock = threading.Lock()

    @property
    def ref(self) -> ModelRef:
        return self.model.ref

    @property
    def device(self) -> str:
        """What runs the model: xnnpack, edgetpu or cpu."""
        return self._first.interpreter.device if self._first else "unknown"

    def instantiate(self) -> TfliteRunner:
        with self._lock:
            first, self._first = self._first, None
        return first if first is not None else TfliteRunner(self.model)

    def with_threads(self, threads: int | None) -> TfliteModelHandle:
        """The same version whose interpreters use at most `threads` (None: the configured count). It opens none
        now: swapped in with `set_model`, each lane makes its own when it next runs the model (thermal)."""
        configured = self.configured.interpreter_threads
        count = configured if threads is None else min(threads, configured)
        accel = self.configured.model_copy(update={"threads": count})
        return TfliteModelHandle(replace(self.model, accel=accel), None, self.configured)


def load_model(
    name: str, config: ModelConfig, accel: AcceleratorConfig, base_dir: Path, version: int = 1
) -> TfliteModelHandle:
    """Verify and open a model; every problem is a ModelError whose text is one line naming the model and file."""
    path = base_dir / config.path
    where = f"model {name!r} ({path})"
    sha256 = _verified_sha256(path, config.sha256, where)
    interpreter = LiteInterpreter(path, accel, where)
    if len(interpreter.inputs) != 1:
        raise ModelError(f"{where}: {len(interpreter.inputs)} inputs; expected one image input")
    plan = resolve_input(config.input, input_defaults(config.decoder), interpreter.inputs[0], where)
    decoder = build_decoder(config.decoder, ModelIO(where, plan.tensor, (plan.width, plan.height), interpreter.outputs))
    labels = read_labels(config.labels, base_dir, where) or metadata_labels(path) or decoder.default_labels
    if labels is not None and decoder.num_classes is not None and len(labels) < decoder.num_classes:
        raise ModelError(f"{where}: {len(labels)} labels for {decoder.num_classes} classes; give one label per class")
    model = LoadedModel(name, path, where, config, accel, ModelRef(name, version, sha256), plan, decoder, labels)
    runner = TfliteRunner(model, interpreter)
    _warm_up(runner, plan, where)
    log.info(
        "%s: loaded v%d on %s (input %s, decoder %s)",
        where,
        version,
        interpreter.device,
        plan.tensor.describe(),
        config.decoder.type,
    )
    return TfliteModelHandle(model, runner)


def model_sha256(name: str, config: ModelConfig, base_dir: Path) -> str:
    """The model file's SHA-256, checked against the config's pin, without opening an interpreter."""
    path = base_dir / config.path
    return _verified_sha256(path, config.sha256, f"model {name!r} ({path})")


def _verified_sha256(path: Path, expected: str | None, where: str) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            digest = hashlib.sha256(head)
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise ModelError(f"{where}: file not found") from None
    except OSError as exc:
        raise ModelError(f"{where}: cannot read the file ({exc.strerror or exc.__class__.__name__})") from None
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise ModelError(f"{where}: not a TFLite file (truncated or another format)")
    actual = digest.hexdigest()
    if expected is not None and actual != expected:
        raise ModelError(f"{where}: sha256 mismatch: expected {expected}, file has {actual}")
    return actual


def _warm_up(runner: TfliteRunner, plan: InputPlan, where: str) -> None:
    """One run on a black frame at load, so a model that fails at invoke fails here and not mid-stream."""
    try:
        geometry = runner.preprocess(Frame("warm-up", 0, 0.0, 0.0, np.zeros((plan.height, plan.width, 3), np.uint8)))
        runner.invoke()
        runner.decode(geometry)
    except (ValueError, RuntimeError, IndexError) as exc:
        raise ModelError(f"{where}: fails on a test frame ({str(exc).strip().splitlines()[0]})") from None
