"""The ``models:`` entries of the config: file, labels, decoder and input handling. Validation does no I/O."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from edge_runtime.inference.decoders import DecoderConfig
from edge_runtime.sections import StrictModel

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class InputConfig(StrictModel):
    """How a BGR camera frame becomes the model's input tensor; unset keys are derived from the model and decoder."""

    layout: Literal["nhwc", "nchw"] | None = Field(None, description="Tensor layout; default: read from the shape.")
    colour: Literal["rgb", "bgr", "gray"] | None = Field(
        None, description="Channel order the model expects; default: gray for 1 channel, else rgb."
    )
    resize: Literal["stretch", "letterbox", "crop"] | None = Field(
        None,
        description="stretch to the input size, letterbox (keep aspect, pad) or centre crop; default: stretch "
        "(letterbox for blazeface and yolo).",
    )
    pad_value: int | None = Field(None, ge=0, le=255, description="Pixel value of letterbox padding (default 0).")
    mean: tuple[float, ...] | None = Field(None, description="Per-channel mean in pixel units: (pixel - mean) / std.")
    std: tuple[float, ...] | None = Field(None, description="Per-channel std in pixel units, with mean.")
    range: tuple[float, float] | None = Field(
        None,
        description="Map pixels 0..255 linearly onto [lo, hi]; default: [0, 1] for float models "
        "([-1, 1] for blazeface), raw pixel bytes for uint8/int8 models.",
    )

    @model_validator(mode="after")
    def _one_normalization(self) -> InputConfig:
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std go together")
        if self.mean is not None and self.range is not None:
            raise ValueError("give either mean/std or range, not both")
        for key, values in (("mean", self.mean), ("std", self.std)):
            if values is not None and len(values) not in (1, 3):
                raise ValueError(f"{key}: one value or one per channel (3) (got {len(values)})")
        if self.std is not None and any(s == 0 for s in self.std):
            raise ValueError("std: must not be 0")
        if self.range is not None and self.range[0] == self.range[1]:
            raise ValueError("range: lo and hi must differ")
        return self


class ModelConfig(StrictModel):
    """One model: a ``.tflite`` file and how to feed it and read it."""

    path: str = Field(description="The .tflite file, relative to the config file's directory.")
    sha256: str | None = Field(None, description="Expected SHA-256 of the file (hex); checked at load.")
    labels: list[str] | str | None = Field(
        None,
        description="Class labels: a list, or a text file with one label per line; default: the model's "
        "metadata labels, else class numbers.",
    )
    decoder: DecoderConfig = Field(description="How outputs become results: a kind name, or {type: kind, ...options}.")
    input: InputConfig = Field(
        default_factory=InputConfig, description="Input handling (colour, resize, normalization)."
    )
    version: int = Field(1, ge=1, description="Model version reported with every result.")

    @field_validator("decoder", mode="before")
    @classmethod
    def _decoder_shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("sha256", mode="before")
    @classmethod
    def _sha256_hex(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if not _SHA256.match(value):
                raise ValueError("must be 64 hex digits")
        return value
