"""``ssd_postprocess``: the four outputs of TFLite_Detection_PostProcess (boxes, classes, scores, count)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from edge_runtime.inference._interpreter import FloatArray, TensorInfo
from edge_runtime.inference.decoders._base import Detections, ModelIO, flat_shape
from edge_runtime.sections import StrictModel

_SUFFIX = re.compile(r"TFLite_Detection_PostProcess(?::(\d))?$")
_ORDER = ("boxes", "classes", "scores", "count")  # the op's own output order


class SsdPostprocessDecoderConfig(StrictModel):
    """A model ending in TFLite_Detection_PostProcess; boxes are [ymin, xmin, ymax, xmax] normalized."""

    type: Literal["ssd_postprocess"] = "ssd_postprocess"
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="Detections scoring below this are dropped.")
    label_offset: int = Field(0, description="Added to the class index before the label lookup (e.g. 1 for '???').")
    max_detections: int | None = Field(None, ge=1, description="At most this many detections (default: the model's).")


class SsdPostprocessDecoder:
    kind = "detections"
    num_classes: int | None = None  # the op does not say how many classes it was trained on
    default_labels: tuple[str, ...] | None = None

    def __init__(self, config: SsdPostprocessDecoderConfig, io: ModelIO) -> None:
        self.config = config
        roles, self._named = _roles(io)
        self._boxes, self._count = roles["boxes"], roles["count"]
        self._pair = (roles["classes"], roles["scores"])

    def decode(self, outputs: Sequence[FloatArray]) -> Detections:
        count = int(outputs[self._count].reshape(-1)[0])
        classes_at, scores_at = self._pair if self._named else _classes_first(outputs, self._pair, count)
        boxes = outputs[self._boxes].reshape(-1, 4)[:count]
        scores = outputs[scores_at].reshape(-1)[:count]
        classes = outputs[classes_at].reshape(-1)[:count]
        keep = np.flatnonzero(scores >= self.config.threshold)
        if self.config.max_detections is not None:
            keep = keep[np.argsort(-scores[keep], kind="stable")][: self.config.max_detections]
        xyxy = np.clip(boxes[keep][:, [1, 0, 3, 2]], 0.0, 1.0).astype(np.float32)
        ids = np.rint(classes[keep]).astype(np.int64) + self.config.label_offset
        return Detections(xyxy, scores[keep].astype(np.float32), ids)


def _roles(io: ModelIO) -> tuple[dict[str, int], bool]:
    """Each output by shape (boxes [1,N,4], count [1]); classes vs scores by name (False: decided per frame)."""
    if len(io.outputs) != 4:
        raise io.error(
            f"the ssd_postprocess decoder expects 4 outputs (boxes, classes, scores, count), "
            f"the model has {len(io.outputs)}"
        )
    shapes = [flat_shape(o) for o in io.outputs]
    boxes = [i for i, s in enumerate(shapes) if len(s) == 2 and s[1] == 4]
    count = [i for i, s in enumerate(shapes) if s in ((1,), ())]
    vectors = [i for i, s in enumerate(shapes) if len(s) == 1 and s != (1,)]
    if len(boxes) != 1 or len(count) != 1 or len(vectors) != 2:
        found = "; ".join(o.describe() for o in io.outputs)
        raise io.error(f"outputs {found}: expected boxes [1,N,4], classes [1,N], scores [1,N], count [1]")
    roles = {"boxes": boxes[0], "count": count[0]}
    named = _by_name(io.outputs, vectors)
    roles.update(named or {"classes": vectors[0], "scores": vectors[1]})
    return roles, named is not None


def _by_name(outputs: Sequence[TensorInfo], vectors: list[int]) -> dict[str, int] | None:
    a, b = (outputs[i].hint for i in vectors)
    if "class" in a and "score" in b:
        return {"classes": vectors[0], "scores": vectors[1]}
    if "score" in a and "class" in b:
        return {"classes": vectors[1], "scores": vectors[0]}
    suffixes = [_SUFFIX.search(outputs[i].name) for i in vectors]
    if all(suffixes):
        order = [_ORDER[int(m.group(1) or 0)] for m in suffixes if m]
        if sorted(order) == ["classes", "scores"]:
            return {order[0]: vectors[0], order[1]: vectors[1]}
    return None


def _classes_first(outputs: Sequence[FloatArray], pair: tuple[int, int], count: int) -> tuple[int, int]:
    """Unnamed outputs: the class tensor holds whole numbers, the score tensor fractions in [0, 1]."""
    first, second = (outputs[i].reshape(-1)[:count] for i in pair)
    first_whole = bool(np.all(first == np.rint(first)))
    second_whole = bool(np.all(second == np.rint(second)))
    if second_whole and not first_whole:
        return pair[1], pair[0]
    if not first_whole and not second_whole and first.max(initial=0.0) <= 1.0 < second.max(initial=0.0):
        return pair[1], pair[0]
    return pair
