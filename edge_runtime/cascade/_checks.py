"""Whole-config checks of a pipeline's shape: gates, then the detector, then cascades, then post stages.

Each problem is reported once, at the key it is about; validation does no I/O (labels read from a file or the
model's metadata are checked again when the model loads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from edge_runtime.inference import ModelConfig
from edge_runtime.inference.decoders import DETECTOR_KINDS

Where = tuple[str | int, ...]
Report = Callable[[Where, str], None]

GATE_KINDS = ("motion", "sensor")
_ORDER = {"gate": 0, "detector": 1, "cascade": 2, "post": 3}


def stage_role(stage: Any) -> str:
    """gate, detector (the first `infer`), cascade (an `infer` with `on:`) or post (every other stage)."""
    if stage.type == "infer":
        return "detector" if stage.on is None else "cascade"
    return "gate" if stage.type in GATE_KINDS else "post"


def check_pipeline_shape(
    stages: Sequence[Any], models: dict[str, ModelConfig], streams: Sequence[str], report: Report
) -> None:
    """Order of roles, one detector, every cascade's model, labels and chain, and the streams gates listen to."""
    _check_gate_streams(stages, streams, report)
    roles = [stage_role(s) for s in stages]
    for i, role in enumerate(roles):
        earlier = roles[:i]
        if role == "detector" and "detector" in earlier:
            report((i,), _misplaced("detector"))
        elif any(_ORDER[r] > _ORDER[role] for r in earlier):
            report((i,), _misplaced(role))
    if "gate" in roles and "detector" not in roles:
        report((roles.index("gate"),), "a gate keeps frames from `infer`: add an `infer` stage after it")
    previous: Any = None  # each cascade runs on the boxes of the `infer` stage before it
    chain: list[str] = []
    for i, stage in enumerate(stages):
        if stage.type != "infer":
            continue
        if stage.on is not None and previous is None:
            report((i, "on"), "a cascade (`on:`) needs a detector `infer` stage before it")
        elif stage.on is not None and previous is not None:
            _check_cascade(i, stage, previous, models, chain, report)
        previous = stage
        chain.append(stage.model)


def _check_gate_streams(stages: Sequence[Any], streams: Sequence[str], report: Report) -> None:
    """A sensor gate fired by a stream names another stream of this config."""
    this = streams[0]  # the stream whose pipeline this is comes first
    for i, stage in enumerate(stages):
        other = getattr(stage, "stream", None) if getattr(stage, "type", None) == "sensor" else None
        if other is None:
            continue
        if other == this:
            report((i, "stream"), "a sensor gate cannot be fired by its own stream's results")
        elif other not in streams:
            report((i, "stream"), f"unknown stream {other!r} (streams: {', '.join(sorted(streams))})")


def _misplaced(role: str) -> str:
    return {
        "gate": "gate stages (motion, sensor) come first, before `infer`",
        "detector": "a pipeline has at most one `infer` stage, and it comes first "
        "(after gates; more models run as cascades, with `on:`)",
        "cascade": "a cascade comes right after the detector's `infer` stage, before other stages",
    }[role]


def _check_cascade(  # noqa: PLR0917  (one call site; the names read better than a bundle)
    i: int,
    stage: Any,
    detector: Any,
    models: dict[str, ModelConfig],
    chain: list[str],
    report: Report,
) -> None:
    if stage.model in chain:
        report((i, "model"), f"a cycle of models: {' -> '.join([*chain, stage.model])}")
        return
    source = models.get(detector.model)
    if source is None or stage.model not in models:
        return  # unknown models are reported by name elsewhere
    if source.decoder.type not in DETECTOR_KINDS:
        report(
            (i, "on"),
            f"a cascade runs on a detector's boxes; model {detector.model!r} has a "
            f"{source.decoder.type!r} decoder (detectors: {', '.join(DETECTOR_KINDS)})",
        )
        return
    known = known_labels(source)
    for j, label in enumerate(stage.on.labels or []):
        if known is not None and label not in known:
            message = f"model {detector.model!r} has no label {label!r} (labels: {', '.join(known)})"
            report((i, "on", "labels", j), message)


def known_labels(model: ModelConfig) -> tuple[str, ...] | None:
    """Labels the config itself gives (a list, or a decoder preset's); None when only the files can tell."""
    if isinstance(model.labels, list):
        return tuple(model.labels)
    if model.labels is None and model.decoder.type == "blazeface":
        return ("face",)
    return None
