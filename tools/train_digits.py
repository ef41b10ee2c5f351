"""Train a small CNN on scikit-learn's bundled 8x8 digits and export it as a
full-integer uint8 TFLite model.

Runs in the tools venv only (TensorFlow is never a runtime dependency):

    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -r tools/requirements.txt
    .venv-tools/bin/python tools/train_digits.py

Writes (into ``models/`` by default):

* ``digits_uint8.tflite``  input uint8 [1,8,8,1] (pixel = round(v*255/16)),
  output uint8 [1,10] (quantized softmax probabilities)
* ``digits_labels.txt``    labels 0..9, one per line
* ``digits_uint8.json``    accuracy of the .tflite on the held-out split, sha256
* ``digits_test.npz``      the held-out split: X_test uint8 [n,8,8], y_test int64 [n]

The reported accuracy is that of the quantized .tflite model, evaluated with
the LiteRT interpreter, not that of the Keras model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
TEST_SIZE = 0.25
SPLIT_RANDOM_STATE = 0
EPOCHS = 40
BATCH_SIZE = 32
REPO_ROOT = Path(__file__).resolve().parent.parent


def to_uint8_pixels(x: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Map load_digits values 0..16 to uint8 pixels: round(v*255/16)."""
    pixels: npt.NDArray[np.uint8] = np.round(np.asarray(x, dtype=np.float64) * 255.0 / 16.0).astype(np.uint8)
    return pixels


def load_split() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Return (X_train, y_train, X_test, y_test) with X as uint8 [n,8,8]."""

    digits = load_digits()
    images = to_uint8_pixels(digits.images)  # [n,8,8]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        labels,
        test_size=TEST_SIZE,
        random_state=SPLIT_RANDOM_STATE,
        stratify=labels,
    )
    return x_train, y_train, x_test, y_test


def build_model() -> Any:

    inputs = keras.Input(shape=(8, 8, 1), name="image")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probs")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def keras_export_archive(model: Any) -> Any:
    """A SavedModel archive with one fixed-shape [1,8,8,1] float32 endpoint."""

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serve",
        fn=lambda image: model(image, training=False),
        input_signature=[tf.TensorSpec([1, 8, 8, 1], tf.float32, name="image")],
    )
    return archive


def convert_uint8(model: Any, x_calib: npt.NDArray[np.float32]) -> bytes:
    """Full-integer quantization with uint8 input and output."""

    def representative() -> Iterator[list[npt.NDArray[np.float32]]]:
        for i in range(x_calib.shape[0]):
            yield [x_calib[i : i + 1]]

    with tempfile.TemporaryDirectory() as tmp:
        # A SavedModel export freezes the Keras 3 variables reliably.
        export = keras_export_archive(model)
        export.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
        result: bytes = converter.convert()
    return result


def evaluate_tflite(model_path: Path, x: npt.NDArray[np.uint8], y: npt.NDArray[np.int64]) -> float:

    interp = Interpreter(model_path=str(model_path), num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    if inp["dtype"] != np.uint8 or list(inp["shape"]) != [1, 8, 8, 1]:
        raise RuntimeError(f"unexpected input {inp['dtype']} {inp['shape']}")
    scale, zero_point = inp["quantization"]
    if abs(scale - 1.0 / 255.0) > 1e-6 or zero_point != 0:
        # The raw pixel is fed as-is; this only holds for scale 1/255, zp 0.
        raise RuntimeError(f"unexpected input quantization {inp['quantization']}")
    correct = 0
    for i in range(x.shape[0]):
        interp.set_tensor(inp["index"], x[i].reshape(1, 8, 8, 1))
        interp.invoke()
        pred = int(np.argmax(interp.get_tensor(out["index"])[0]))
        correct += int(pred == int(y[i]))
    return correct / int(x.shape[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)

    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)

    x_train, y_train, x_test, y_test = load_split()
    xf_train = (x_train.astype(np.float32) / 255.0)[..., None]
    xf_test = (x_test.astype(np.float32) / 255.0)[..., None]

    model = build_model()
    model.fit(
        xf_train,
        y_train,
        epochs=args.epochs,
        batch_size=BATCH_SIZE,
        shuffle=True,
        verbose=0,
    )
    _, keras_acc = model.evaluate(xf_test, y_test, verbose=0)
    print(f"keras float test accuracy: {keras_acc:.4f}")

    tflite_bytes = convert_uint8(model, xf_train)
    model_path = out_dir / "digits_uint8.tflite"
    model_path.write_bytes(tflite_bytes)

    acc = evaluate_tflite(model_path, x_test, y_test)
    print(f"tflite uint8 test accuracy: {acc:.4f} on {x_test.shape[0]} images")

    (out_dir / "digits_labels.txt").write_text("".join(f"{i}\n" for i in range(10)))
    np.savez_compressed(out_dir / "digits_test.npz", X_test=x_test, y_test=y_test)
    meta = {
        "test_accuracy": round(acc, 6),
        "n_test": int(x_test.shape[0]),
        "split": {"test_size": TEST_SIZE, "random_state": SPLIT_RANDOM_STATE, "stratify": True},
        "sha256": hashlib.sha256(tflite_bytes).hexdigest(),
        "input": "uint8 [1,8,8,1], pixel = round(v*255/16)",
        "output": "uint8 [1,10], quantized softmax; label = argmax",
        "dataset": "sklearn.datasets.load_digits",
        "test_data": "digits_test.npz (X_test uint8 [n,8,8], y_test int64 [n])",
        "labels": "digits_labels.txt",
    }
    (out_dir / "digits_uint8.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {model_path} ({len(tflite_bytes)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
