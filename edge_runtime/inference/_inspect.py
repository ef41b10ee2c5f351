"""``edge-runtime models inspect FILE``: what a .tflite says about itself, and a config entry guessed from it."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._interpreter import LiteInterpreter, TensorInfo
from edge_runtime.inference._labels import metadata_labels
from edge_runtime.inference.decoders._strides import fit_strides
from edge_runtime.sections import AcceleratorConfig


def inspect_model(path: Path | str) -> str:
    """A readable report of a model file (raises ModelError, one line, when it cannot be opened)."""
    path = Path(path)
    where = f"model {path.stem!r} ({path})"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{where}: cannot read the file ({exc.strerror or type(exc).__name__})") from None
    interp = LiteInterpreter(path, AcceleratorConfig(delegate="none", threads=1), where)
    labels = metadata_labels(path)
    sha256 = hashlib.sha256(data).hexdigest()
    lines = [f"model: {path} ({len(data)} bytes, sha256 {sha256})", "inputs:"]
    lines += [f"  {t.describe()}" for t in interp.inputs]
    lines += ["outputs:"] + [f"  {t.describe()}" for t in interp.outputs]
    ops = Counter(interp.ops())
    lines.append(f"ops ({sum(ops.values())}): " + ", ".join(f"{name} x{n}" for name, n in sorted(ops.items())))
    lines.append(
        f"metadata labels: {len(labels)} ({', '.join(labels[:5])}, ...)" if labels else "metadata labels: none"
    )
    entry = suggest_entry(path, sha256, interp.inputs, interp.outputs)
    lines.append("suggested config entry:")
    lines += ["  " + line for line in yaml.safe_dump({"models": entry}, sort_keys=False).splitlines()]
    return "\n".join(lines)


def suggest_entry(
    path: Path, sha256: str, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]
) -> dict[str, Any]:
    """A ``models:`` entry guessed from the tensor shapes (a starting point to check, not a promise)."""
    entry: dict[str, Any] = {"path": str(path), "sha256": sha256, "decoder": _guess_decoder(inputs, outputs)}
    image = inputs[0] if inputs else None
    anchors = isinstance(entry["decoder"], dict) and entry["decoder"]["type"] == "anchors"
    if anchors:  # MediaPipe's anchor models take [-1, 1] and keep the aspect ratio
        entry["input"] = {"resize": "letterbox", "range": [-1.0, 1.0]}
    elif image is not None and image.dtype == np.float32 and entry["decoder"] != "blazeface":
        entry["input"] = {"range": [0.0, 1.0]}
    return {path.stem.replace("-", "_"): entry}


def _guess_decoder(inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> Any:
    shapes = [o.shape for o in outputs]
    size = inputs[0].shape[1:3] if inputs and len(inputs[0].shape) == 4 else ()
    if sorted(shapes) == [(1, 896, 1), (1, 896, 16)] and size == (128, 128):
        return "blazeface"
    if len(shapes) == 4 and sum(1 for s in shapes if s[-1:] == (4,) and len(s) == 3) == 1:
        return "ssd_postprocess"
    if len(shapes) == 1 and len(shapes[0]) == 3:
        return {"type": "yolo", "threshold": 0.25}
    sizes = sorted(int(np.prod(s)) for s in shapes)
    if len(sizes) == 2 and sizes[0] == 1 and sizes[1] >= 30 and sizes[1] % 3 == 0:  # points x 3 and a presence
        return {"type": "landmarks", "dims": 3}
    if len(shapes) == 2 and all(len(s) == 3 for s in shapes) and shapes[0][1] == shapes[1][1] and size:
        return _anchors_entry(shapes[0][1], width=size[1], height=size[0])
    return {"type": "classification", "top_k": 5}


def _anchors_entry(count: int, width: int, height: int) -> dict[str, Any]:
    """Strides that make ``count`` anchors on this input, and regression scales of the input size."""
    strides = fit_strides(count, width, height)
    entry: dict[str, Any] = {"type": "anchors", "strides": list(strides or (8, 16, 16, 16)), "min_score": 0.5}
    if (width, height) != (128, 128):
        entry.update(x_scale=float(width), y_scale=float(height), w_scale=float(width), h_scale=float(height))
    return entry
