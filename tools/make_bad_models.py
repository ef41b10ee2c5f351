"""Build digits-shaped classifiers for the model-update tests: two that load fine but must not stay in service,
and one harmless new version.

Runs in the tools venv only (TensorFlow is never a runtime dependency):

    .venv-tools/bin/python tools/make_bad_models.py

Both take the input of ``digits_uint8.tflite`` (uint8 [1, 8, 8, 1]) and give a float32 [1, 10] score vector,
which the ``classification`` decoder accepts (NaN only exists in float outputs, so the outputs are float):

* ``models/test_nan.tflite``   every score is NaN (sqrt of a negative number of the input).
* ``models/test_slow.tflite``  valid, finite softmax scores, but the 8x8 input is upsampled to 64x64 and run
  through a stack of 3x3 convolutions, so one invoke costs far more than 3x ``digits_uint8`` (the figures are
  printed). The weights are random: its answers are meaningless, only its cost matters.
* ``models/test_alt.tflite``   a different file that is as cheap as ``digits_uint8`` and gives finite softmax
  scores (random weights): a new version that passes every check, so a push of it must go live.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS = REPO_ROOT / "models"
SEED = 0
SLOW_SIZE = 64  # the upsampled image side
SLOW_CHANNELS = 16
SLOW_LAYERS = 12
SIGNATURE = [tf.TensorSpec([1, 8, 8, 1], tf.uint8, name="image")]


def _weights(rng: np.random.Generator, *shape: int) -> tf.Tensor:
    fan_in = int(np.prod(shape[:-1]))
    return tf.constant(rng.normal(0.0, (2.0 / fan_in) ** 0.5, shape).astype(np.float32))


def nan_model() -> tf.types.experimental.ConcreteFunction:
    rng = np.random.default_rng(SEED)
    dense = _weights(rng, 64, 10)

    @tf.function(input_signature=SIGNATURE)
    def scores(image: tf.Tensor) -> tf.Tensor:
        x = tf.reshape(tf.cast(image, tf.float32) / 255.0, [1, 64])
        logits = tf.matmul(x, dense)
        return tf.sqrt(-1.0 - tf.abs(logits))  # always NaN, never folded (depends on the input)

    return scores.get_concrete_function()


def alt_model() -> tf.types.experimental.ConcreteFunction:
    rng = np.random.default_rng(SEED + 1)
    dense = _weights(rng, 64, 10)

    @tf.function(input_signature=SIGNATURE)
    def scores(image: tf.Tensor) -> tf.Tensor:
        return tf.nn.softmax(tf.matmul(tf.reshape(tf.cast(image, tf.float32) / 255.0, [1, 64]), dense))

    return scores.get_concrete_function()


def slow_model() -> tf.types.experimental.ConcreteFunction:
    rng = np.random.default_rng(SEED)
    first = _weights(rng, 3, 3, 1, SLOW_CHANNELS)
    stack = [_weights(rng, 3, 3, SLOW_CHANNELS, SLOW_CHANNELS) for _ in range(SLOW_LAYERS)]
    dense = _weights(rng, SLOW_CHANNELS, 10)

    @tf.function(input_signature=SIGNATURE)
    def scores(image: tf.Tensor) -> tf.Tensor:
        x = tf.image.resize(tf.cast(image, tf.float32) / 255.0, [SLOW_SIZE, SLOW_SIZE])
        x = tf.nn.relu(tf.nn.conv2d(x, first, 1, "SAME"))
        for kernel in stack:
            x = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME"))
        return tf.nn.softmax(tf.matmul(tf.reduce_mean(x, axis=[1, 2]), dense))

    return scores.get_concrete_function()


def convert(function: tf.types.experimental.ConcreteFunction) -> bytes:
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function])
    data: bytes = converter.convert()
    return data


def invoke_ms(path: Path, runs: int = 200) -> tuple[float, np.ndarray]:
    interpreter = Interpreter(str(path), num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], np.full(inp["shape"], 100, np.uint8))
    interpreter.invoke()
    start = time.perf_counter()
    for _ in range(runs):
        interpreter.invoke()
    elapsed = (time.perf_counter() - start) / runs * 1e3
    return elapsed, interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def main() -> None:
    for name, build in (("test_nan", nan_model), ("test_slow", slow_model), ("test_alt", alt_model)):
        path = MODELS / f"{name}.tflite"
        path.write_bytes(convert(build()))
        ms, out = invoke_ms(path)
        size = path.stat().st_size
        print(f"{path.relative_to(REPO_ROOT)}: {size} bytes, {ms:.3f} ms/invoke, output {out.ravel()[:3]}")
    ms, _ = invoke_ms(MODELS / "digits_uint8.tflite")
    print(f"models/digits_uint8.tflite: {ms:.3f} ms/invoke")


if __name__ == "__main__":
    main()
