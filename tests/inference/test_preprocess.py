"""Preprocessing into float, uint8 and int8 inputs, and dequantizing outputs: round trips with known answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from edge_runtime.inference import InputConfig, ModelError, Preprocessor, TensorInfo, dequantize
from edge_runtime.inference._preprocess import resolve_input

Array = np.ndarray[Any, np.dtype[Any]]


def _tensor(dtype: Any, shape: tuple[int, ...] = (1, 4, 4, 3), scale: float = 0.0, zp: int = 0) -> TensorInfo:
    return TensorInfo(0, "in", shape, np.dtype(dtype), scale, zp)


def _preprocess(tensor: TensorInfo, image: Array, defaults: dict[str, Any] | None = None, **config: Any) -> Array:
    plan = resolve_input(InputConfig.model_validate(config), defaults or {}, tensor, "model 'm' (m.tflite)")
    buffer = np.zeros(tensor.shape, tensor.dtype)
    Preprocessor(plan)(image, lambda: buffer)
    return buffer


def _gradient() -> Array:
    """4x4 BGR image whose blue, green and red channels differ."""
    values = np.arange(16, dtype=np.uint8).reshape(4, 4) * 17
    return np.stack([values, 255 - values, np.full((4, 4), 200, np.uint8)], axis=2)


def test_float_range_and_rgb_order() -> None:
    out = _preprocess(_tensor(np.float32), _gradient(), range=(-1.0, 1.0))
    expected = _gradient()[:, :, ::-1].astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(out[0], expected, atol=1e-6)


def test_float_default_is_unit_range_and_mean_std_per_channel() -> None:
    np.testing.assert_allclose(_preprocess(_tensor(np.float32), _gradient())[0], _gradient()[:, :, ::-1] / 255.0)
    out = _preprocess(_tensor(np.float32), _gradient(), mean=(10.0, 20.0, 30.0), std=(2.0, 4.0, 5.0), colour="bgr")
    np.testing.assert_allclose(out[0], (_gradient() - np.array([10, 20, 30])) / np.array([2, 4, 5]), atol=1e-5)


@pytest.mark.parametrize(("dtype", "scale", "zp"), [(np.uint8, 1 / 127.5, 128), (np.int8, 1 / 127.5, 0)])
def test_quantized_input_round_trips(dtype: Any, scale: float, zp: int) -> None:
    """Normalized values, quantized into the input, dequantize back to within half a step."""
    tensor = _tensor(dtype, scale=scale, zp=zp)
    out = _preprocess(tensor, _gradient(), range=(-1.0, 1.0))
    assert out.dtype == dtype
    wanted = _gradient()[:, :, ::-1] / 127.5 - 1.0
    np.testing.assert_allclose(dequantize(out, tensor)[0], wanted, atol=scale / 2 + 1e-6)


def test_raw_default_for_quantized_inputs() -> None:
    uint8 = _preprocess(_tensor(np.uint8, scale=1 / 255), _gradient())
    np.testing.assert_array_equal(uint8[0], _gradient()[:, :, ::-1])
    int8 = _preprocess(_tensor(np.int8, scale=1 / 255, zp=-128), _gradient())
    np.testing.assert_array_equal(int8[0].astype(int), _gradient()[:, :, ::-1].astype(int) - 128)


def test_per_channel_quantized_nchw() -> None:
    tensor = _tensor(np.int8, (1, 3, 4, 4), scale=0.05, zp=-3)
    out = _preprocess(tensor, _gradient(), mean=(100.0, 110.0, 120.0), std=(50.0, 60.0, 70.0))
    rgb = _gradient()[:, :, ::-1].transpose(2, 0, 1)
    wanted = (rgb - np.array([100, 110, 120])[:, None, None]) / np.array([50, 60, 70])[:, None, None]
    np.testing.assert_allclose(dequantize(out, tensor)[0], wanted, atol=0.025 + 1e-6)


def test_gray_input_gets_luma() -> None:
    tensor = _tensor(np.uint8, (1, 4, 4, 1), scale=1 / 255)
    grey = np.repeat(np.arange(16, dtype=np.uint8).reshape(4, 4, 1) * 16, 3, axis=2)
    np.testing.assert_array_equal(_preprocess(tensor, grey)[0, :, :, 0], grey[:, :, 0])


def test_letterbox_pads_and_crop_centres() -> None:
    wide = np.full((2, 4, 3), 255, np.uint8)
    boxed = _preprocess(_tensor(np.uint8), wide, resize="letterbox", pad_value=7)
    assert boxed[0, :, :, 0].tolist() == [[7] * 4, [255] * 4, [255] * 4, [7] * 4]
    wide[:, :1], wide[:, 3:] = 0, 0
    cropped = _preprocess(_tensor(np.uint8, (1, 2, 2, 3)), wide, resize="crop")
    assert cropped[0, :, :, 0].tolist() == [[255, 255], [255, 255]]


def test_dequantize_uint8_and_int8_outputs() -> None:
    assert dequantize(np.array([0, 128, 255], np.uint8), _tensor(np.uint8, scale=0.5, zp=128)).tolist() == [
        -64.0,
        0.0,
        63.5,
    ]
    assert dequantize(np.array([-128, 0, 127], np.int8), _tensor(np.int8, scale=0.25, zp=-128)).tolist() == [
        0.0,
        32.0,
        63.75,
    ]
    floats = np.array([0.5, -2.0], np.float32)
    assert dequantize(floats, _tensor(np.float32)) is floats


def test_colour_must_fit_the_channels() -> None:
    with pytest.raises(ModelError, match=r"input.colour gray does not fit 3 channel\(s\)"):
        resolve_input(InputConfig(colour="gray"), {}, _tensor(np.uint8), "model 'm' (m.tflite)")
