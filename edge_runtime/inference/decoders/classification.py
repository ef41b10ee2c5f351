"""``classification``: the top-k classes of a score vector, with a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from edge_runtime.inference._interpreter import FloatArray
from edge_runtime.inference.decoders._base import Classes, ModelIO, flat_shape
from edge_runtime.sections import StrictModel


class ClassificationDecoderConfig(StrictModel):
    """One output of shape [1, classes] (or [classes]): scores, probabilities or logits."""

    type: Literal["classification"] = "classification"
    top_k: int = Field(5, ge=1, le=1000, description="How many classes to report, best first.")
    threshold: float = Field(0.0, ge=0.0, description="Classes scoring below this are left out.")
    softmax: bool = Field(False, description="Apply softmax first (for models that output logits).")
    output: str | None = Field(None, description="Name of the score output when the model has several.")


class ClassificationDecoder:
    kind = "classification"
    default_labels: tuple[str, ...] | None = None

    def __init__(self, config: ClassificationDecoderConfig, io: ModelIO) -> None:
        self.config = config
        self._position = _score_output(config, io)
        shape = flat_shape(io.outputs[self._position])
        if len(shape) != 1:
            raise io.error(
                f"output {io.outputs[self._position].describe()}: the classification decoder expects [1, classes]"
            )
        self.num_classes: int | None = shape[0]

    def decode(self, outputs: Sequence[FloatArray]) -> Classes:
        scores = outputs[self._position].reshape(-1)
        if self.config.softmax:
            shifted = np.exp(scores - scores.max())
            scores = (shifted / shifted.sum()).astype(np.float32)
        k = min(self.config.top_k, scores.size)
        if k == 1:  # the common case, in a few small steps (argmax: the first of equal best scores)
            best = int(scores.argmax())
            keep = bool(scores[best] >= self.config.threshold)
            ids = np.array([best] if keep else [], np.int64)
            return Classes(scores=scores[ids].astype(np.float32, copy=False), class_ids=ids)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] >= self.config.threshold]
        return Classes(scores=scores[top].astype(np.float32), class_ids=top.astype(np.int64))


def _score_output(config: ClassificationDecoderConfig, io: ModelIO) -> int:
    if config.output is not None:
        for position, info in enumerate(io.outputs):
            if info.name == config.output:
                return position
        names = ", ".join(repr(o.name) for o in io.outputs)
        raise io.error(f"decoder.output {config.output!r} is not an output of the model (outputs: {names})")
    if len(io.outputs) != 1:
        names = ", ".join(repr(o.name) for o in io.outputs)
        raise io.error(f"the model has {len(io.outputs)} outputs ({names}); set decoder.output to the score tensor")
    return 0
