"""From a BGR frame to the input tensor: resolve the input plan at load, then fit, colour and write per frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

import cv2
import numpy as np
import numpy.typing as npt

from edge_runtime.frames import Image
from edge_runtime.inference._config import InputConfig
from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._geometry import Geometry, Resize, fit
from edge_runtime.inference._interpreter import TensorInfo

_DTYPES = {np.dtype(np.float32), np.dtype(np.uint8), np.dtype(np.int8)}


@dataclass(frozen=True, slots=True)
class InputPlan:
    """Everything preprocessing needs, settled at load from the config, the decoder and the tensor."""

    width: int
    height: int
    channels: int
    layout: Literal["nhwc", "nchw"]
    colour: Literal["rgb", "bgr", "gray"]
    resize: Resize
    pad_value: int
    gain: tuple[float, ...] | None  # per channel: value = pixel * gain + bias; None: raw pixel bytes
    bias: tuple[float, ...] | None
    tensor: TensorInfo


def resolve_input(config: InputConfig, defaults: dict[str, Any], tensor: TensorInfo, where: str) -> InputPlan:
    """Check the input tensor is an image and settle every unset key (raises ModelError in one line)."""
    shape, what = tensor.shape, f"{where}: input {tensor.describe()}"
    if tensor.dtype not in _DTYPES:
        raise ModelError(f"{what}: expected float32, uint8 or int8 image input")
    if len(shape) != 4 or shape[0] != 1:
        raise ModelError(f"{what}: not an image input; expected [1, H, W, C] or [1, C, H, W] with C 1 or 3")
    layout = config.layout or ("nhwc" if shape[3] in (1, 3) else "nchw")
    channels, height, width = (shape[3], shape[1], shape[2]) if layout == "nhwc" else (shape[1], shape[2], shape[3])
    if channels not in (1, 3):
        raise ModelError(f"{what}: not an image input for layout {layout}; expected 1 or 3 channels (got {channels})")
    colour = config.colour or ("gray" if channels == 1 else defaults.get("colour", "rgb"))
    if (colour == "gray") != (channels == 1):
        raise ModelError(f"{what}: input.colour {colour} does not fit {channels} channel(s)")
    gain, bias = _normalization(config, defaults, tensor, channels)
    return InputPlan(
        width=width,
        height=height,
        channels=channels,
        layout=layout,
        colour=colour,
        resize=config.resize or defaults.get("resize", "stretch"),
        pad_value=config.pad_value if config.pad_value is not None else int(defaults.get("pad_value", 0)),
        gain=gain,
        bias=bias,
        tensor=tensor,
    )


def _normalization(
    config: InputConfig, defaults: dict[str, Any], tensor: TensorInfo, channels: int
) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    if config.mean is not None and config.std is not None:
        mean, std = _per_channel(config.mean, channels), _per_channel(config.std, channels)
        return tuple(1.0 / s for s in std), tuple(-m / s for m, s in zip(mean, std, strict=True))
    lo_hi = config.range or defaults.get("range")
    if lo_hi is None and tensor.dtype == np.float32:
        lo_hi = (0.0, 1.0)
    if lo_hi is None:
        return None, None  # quantized input: the pixel byte is the value
    lo, hi = lo_hi
    return ((hi - lo) / 255.0,) * channels, (float(lo),) * channels


def _per_channel(values: tuple[float, ...], channels: int) -> tuple[float, ...]:
    return values * channels if len(values) == 1 else values[:channels] if channels == 1 else values


class Preprocessor:
    """Writes one frame into an input buffer: fit to size, convert colour, then normalize/quantize into the dtype.

    A frame already at the input size is not copied to be fitted, and the colour conversion writes straight into
    the tensor (or into a scratch image kept for the next frame), so a camera frame at the model's size costs one
    pass over the pixels (two with a lookup table or a float conversion).
    """

    def __init__(self, plan: InputPlan) -> None:
        self.plan = plan
        self._convert = _colour_code(plan.colour)
        self._lut = _lookup_table(plan)
        self._gain = None if plan.gain is None else np.asarray(plan.gain, np.float32)
        self._bias = None if plan.bias is None else np.asarray(plan.bias, np.float32)
        if plan.layout == "nchw" and plan.channels == 3 and self._gain is not None and self._bias is not None:
            self._gain, self._bias = self._gain.reshape(-1, 1, 1), self._bias.reshape(-1, 1, 1)
        is_float = plan.tensor.dtype == np.float32
        # The pixels are the stored bytes: colour conversion can write into the tensor itself.
        self._direct = plan.layout == "nhwc" and not is_float and self._lut is None
        self._shape = (plan.height, plan.width) if plan.channels == 1 else (plan.height, plan.width, 3)
        self._scratch: Image | None = None  # colour-converted pixels, reused frame to frame

    def __call__(self, image: Image, buffer: Callable[[], npt.NDArray[Any]]) -> Geometry:
        """Preprocess ``image`` (HxWx3 BGR) into the tensor behind ``buffer``; returns how to undo the fit."""
        p = self.plan
        if image.shape[0] == p.height and image.shape[1] == p.width:
            fitted, geometry = image, _AS_IS
        else:
            fitted, geometry = fit(image, (p.width, p.height), p.resize, p.pad_value)
        view = buffer()[0]
        if p.channels == 1:
            view = view.reshape(p.height, p.width)
        if self._direct:
            self._colour(fitted, view.view(np.uint8))
            return geometry
        pixels = self._colour(fitted, self._scratch_image())
        if p.layout == "nchw" and p.channels == 3:
            pixels = pixels.transpose(2, 0, 1)
        self._write(pixels, view)
        return geometry

    def _colour(self, fitted: Image, out: Image) -> Image:
        """``fitted`` in the input's colour order, written into ``out`` (which is returned)."""
        if self._convert is None:
            np.copyto(out, fitted)
            return out
        converted = cast(Image, cv2.cvtColor(fitted, self._convert, dst=out))
        if converted is not out:  # OpenCV made its own array (an odd stride): copy it over
            np.copyto(out, converted)
        return out

    def _scratch_image(self) -> Image:
        if self._scratch is None:
            self._scratch = np.empty(self._shape, np.uint8)
        return self._scratch

    def _write(self, pixels: Image, view: npt.NDArray[Any]) -> None:
        if self._gain is not None and self._bias is not None and view.dtype == np.float32:
            np.multiply(pixels, self._gain, out=view, casting="unsafe")
            np.add(view, self._bias, out=view)
        elif self._lut is None:
            np.copyto(view, pixels, casting="unsafe")
        elif pixels.ndim == 2 or self.plan.layout == "nhwc":
            cv2.LUT(pixels, self._lut, dst=view.view(np.uint8))
        else:
            table = self._lut.reshape(256, -1)
            channel = np.arange(table.shape[1]).reshape(-1, 1, 1) if table.shape[1] > 1 else 0
            np.copyto(view.view(np.uint8), table[pixels, channel])


_AS_IS = Geometry()


def _colour_code(colour: str) -> int | None:
    return {"rgb": cv2.COLOR_BGR2RGB, "gray": cv2.COLOR_BGR2GRAY}.get(colour)


def _lookup_table(plan: InputPlan) -> npt.NDArray[np.uint8] | None:
    """For a quantized input: pixel byte -> stored byte (int8 as its bit pattern); None when bytes pass as-is."""
    dtype = plan.tensor.dtype
    if dtype == np.float32:
        return None
    pixel = np.arange(256, dtype=np.float64)[:, None]
    if plan.gain is None or plan.bias is None:
        if dtype == np.uint8:
            return None
        stored = pixel - 128.0  # int8 without normalization: centre the byte
    else:
        values = pixel * np.asarray(plan.gain) + np.asarray(plan.bias)
        scale = plan.tensor.scale or 1.0
        stored = np.rint(values / scale + plan.tensor.zero_point)
    info = np.iinfo(dtype)
    table = np.clip(stored, info.min, info.max).astype(dtype).view(np.uint8)
    if table.shape[1] == 1 or bool(np.all(table == table[:, :1])):
        return np.ascontiguousarray(table[:, 0])
    return np.ascontiguousarray(table.reshape(1, 256, -1))
