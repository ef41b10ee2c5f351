"""Build small TFLite models whose right answers are known, for tests and benchmarks.

Runs in the tools venv only (TensorFlow is never a runtime dependency):

    python3 -m venv .venv-tools
    .venv-tools/bin/pip install -r tools/requirements.txt
    .venv-tools/bin/python tools/make_test_models.py            # all models
    .venv-tools/bin/python tools/make_test_models.py --only ssd yolo

The detection test models share one idea: the 64x64 RGB input is split into a
grid of square cells; each cell is one anchor/candidate box at a fixed place,
and the score of class ``c`` for that cell is the mean of colour channel ``c``
over the cell (red = class 0, green = class 1, blue = class 2), scaled to
[0, 1]. So for ANY input the right detections are known: a cell painted pure
red gives a class-0 box at that cell with score ~1.0. Each model's JSON file
records the rule, the tensors (names, order, shapes, dtypes, quantization) and
the detections measured with LiteRT on a reference image that the JSON also
describes.

Models written to ``models/``:

* ``test_ssd_postprocess.tflite``       float32 input, graph ends in the
  ``TFLite_Detection_PostProcess`` custom op (built into LiteRT's resolver)
* ``test_ssd_postprocess_uint8.tflite`` the same with uint8 input and
  int8-quantized internals
* ``test_yolo_v8.tflite``       int8 in/out, output [1, 4+nc, N], xywh in pixels
* ``test_yolo_v8_norm.tflite``  same, xywh normalized to [0, 1] (as real
  Ultralytics TFLite exports do)
* ``test_yolo_v5.tflite``       int8 in/out, output [1, N, 5+nc], xywh
  normalized, objectness at index 4
* ``mobilenet_v2_int8.tflite``  MobileNetV2 (alpha 1.0, 224x224) with random
  weights, full-integer, uint8 in/out; for timing benchmarks only. Written to
  ``var/models/`` instead if it is larger than 5 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

REPO_ROOT = Path(__file__).resolve().parent.parent
SEED = 0
INPUT_SIZE = 64  # square RGB input, pixels
NUM_CLASSES = 3  # class c == colour channel c
CLASS_NAMES = ["red", "green", "blue"]
MAX_COMMITTED_BYTES = 5 * 1024 * 1024

# The reference image stored in every detection JSON: black 64x64 RGB with
# filled rectangles; rows/cols are half-open pixel ranges [start, stop).
# Rectangles cover whole cells of both the 16 px (SSD) and 8 px (YOLO) grids.
REFERENCE_IMAGE: dict[str, Any] = {
    "height": INPUT_SIZE,
    "width": INPUT_SIZE,
    "background_rgb": [0, 0, 0],
    "rects": [
        {"rows": [16, 32], "cols": [32, 48], "rgb": [255, 0, 0]},
        {"rows": [48, 64], "cols": [0, 16], "rgb": [0, 204, 0]},
    ],
}


def reference_image_uint8() -> npt.NDArray[np.uint8]:
    """The reference image as uint8 [1, H, W, 3]."""
    img = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    img[...] = REFERENCE_IMAGE["background_rgb"]
    for rect in REFERENCE_IMAGE["rects"]:
        r0, r1 = rect["rows"]
        c0, c1 = rect["cols"]
        img[0, r0:r1, c0:c1, :] = rect["rgb"]
    return img


def calibration_images(count: int = 32) -> Iterator[npt.NDArray[np.float32]]:
    """Float [1, H, W, 3] images in [0, 1] covering both extremes exactly."""
    rng = np.random.default_rng(SEED)
    for i in range(count):
        x = rng.random((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
        if i % 2 == 0:
            x[0, :16, :16, :] = 0.0
            x[0, 16:32, 16:32, :] = 1.0
        else:
            x[0, : INPUT_SIZE // 2] = 1.0
            x[0, INPUT_SIZE // 2 :] = 0.0
        yield x


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_json(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n")


def _quant(detail: dict[str, Any]) -> dict[str, Any]:
    scale, zero_point = detail["quantization"]
    return {"scale": float(scale), "zero_point": int(zero_point)}


def tensor_info(detail: dict[str, Any]) -> dict[str, Any]:
    dtype = np.dtype(detail["dtype"]).name
    info: dict[str, Any] = {
        "name": str(detail["name"]),
        "index": int(detail["index"]),
        "shape": [int(v) for v in detail["shape"]],
        "dtype": dtype,
    }
    if dtype in ("uint8", "int8", "int16"):
        info["quantization"] = _quant(detail)
    return info


def describe_interpreter(model_path: Path) -> dict[str, Any]:
    """Inputs and outputs in the interpreter's order, plus the signature."""

    interp = Interpreter(model_path=str(model_path))
    interp.allocate_tensors()
    signatures = interp.get_signature_list()
    ops = sorted({str(op["op_name"]) for op in interp._get_ops_details()})
    return {
        "inputs": [tensor_info(d) for d in interp.get_input_details()],
        "outputs": [tensor_info(d) for d in interp.get_output_details()],
        "signatures": signatures,
        "ops": ops,
    }


def run_model(model_path: Path, image: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[Any]]:
    """Run on a uint8 RGB image (converted to the input's dtype); outputs by name."""

    interp = Interpreter(model_path=str(model_path))
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], to_model_input(image, inp))
    interp.invoke()
    return {str(d["name"]): interp.get_tensor(d["index"]) for d in interp.get_output_details()}


def to_model_input(image: npt.NDArray[np.uint8], detail: dict[str, Any]) -> npt.NDArray[Any]:
    dtype = np.dtype(detail["dtype"])
    if dtype == np.float32:
        return (image.astype(np.float32) / 255.0).astype(np.float32)
    scale, zero_point = detail["quantization"]
    # All models here quantize [0, 1] floats with scale 1/255, so q = pixel + zp.
    assert abs(scale * 255.0 - 1.0) < 1e-6, detail["quantization"]
    return (image.astype(np.int32) + int(zero_point)).astype(dtype)


def dequantize(values: npt.NDArray[Any], detail: dict[str, Any]) -> npt.NDArray[np.float32]:
    if np.dtype(detail["dtype"]) == np.float32:
        return values.astype(np.float32)
    scale, zero_point = detail["quantization"]
    result: npt.NDArray[np.float32] = ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)
    return result


def convert(
    fn: Any,
    *,
    quantize: bool,
    input_type: Any = None,
    output_type: Any = None,
    custom_ops: bool = False,
) -> bytes:

    module = tf.Module()
    module.serve = fn
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], module)
    converter.allow_custom_ops = custom_ops
    if quantize:

        def representative() -> Iterator[list[npt.NDArray[np.float32]]]:
            for x in calibration_images():
                yield [x]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        if not custom_ops:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if input_type is not None:
            converter.inference_input_type = input_type
        if output_type is not None:
            converter.inference_output_type = output_type
    result: bytes = converter.convert()
    return result


# --------------------------------------------------------------------------- SSD

SSD_GRID = 4  # 4x4 anchors of 16x16 px
SSD_CELL = INPUT_SIZE // SSD_GRID
SSD_ATTRS: dict[str, Any] = {
    "max_detections": 10,
    "max_classes_per_detection": 1,
    "use_regular_nms": False,
    "nms_score_threshold": 0.5,
    "nms_iou_threshold": 0.5,
    "y_scale": 10.0,
    "x_scale": 10.0,
    "h_scale": 5.0,
    "w_scale": 5.0,
    "num_classes": NUM_CLASSES,
}
# Constant box encoding (ty, tx, th, tw): centre unchanged, height and width
# halved, so each detected box is the central half of its cell.
SSD_BOX_SCALE = 0.5
SSD_ENCODING = [
    0.0,
    0.0,
    SSD_ATTRS["h_scale"] * math.log(SSD_BOX_SCALE),
    SSD_ATTRS["w_scale"] * math.log(SSD_BOX_SCALE),
]


def ssd_anchors() -> npt.NDArray[np.float32]:
    """[N, 4] anchors (ycenter, xcenter, h, w), normalized, row-major cells."""
    rows = []
    for r in range(SSD_GRID):
        for c in range(SSD_GRID):
            rows.append([(r + 0.5) / SSD_GRID, (c + 0.5) / SSD_GRID, 1.0 / SSD_GRID, 1.0 / SSD_GRID])
    return np.asarray(rows, dtype=np.float32)


def ssd_implements_signature() -> str:
    parts = ['name: "TFLite_Detection_PostProcess"']
    for key, value in SSD_ATTRS.items():
        if isinstance(value, bool):
            parts.append(f'attr {{ key: "{key}" value {{ b: {str(value).lower()} }} }}')
        elif isinstance(value, int):
            parts.append(f'attr {{ key: "{key}" value {{ i: {value} }} }}')
        else:
            parts.append(f'attr {{ key: "{key}" value {{ f: {value:f} }} }}')
    return " ".join(parts)


def build_ssd_fn() -> Any:

    n = SSD_GRID * SSD_GRID
    anchors = ssd_anchors()

    # The body is a placeholder: the converter replaces a function annotated
    # with experimental_implements="TFLite_Detection_PostProcess" by the op
    # (the same mechanism the TF2 Object Detection API uses for its exports).
    @tf.function(experimental_implements=ssd_implements_signature())
    def postprocess(box_encodings: Any, class_predictions: Any, anchors: Any) -> Any:
        boxes = tf.constant(0.0, dtype=tf.float32, name="boxes")
        scores = tf.constant(0.0, dtype=tf.float32, name="scores")
        classes = tf.constant(0.0, dtype=tf.float32, name="classes")
        num_detections = tf.constant(0.0, dtype=tf.float32, name="num_detections")
        return boxes, classes, scores, num_detections

    @tf.function(input_signature=[tf.TensorSpec([1, INPUT_SIZE, INPUT_SIZE, 3], tf.float32, name="image")])
    def serve(image: Any) -> Any:
        cells = tf.nn.avg_pool2d(image, SSD_CELL, SSD_CELL, "VALID")  # [1, G, G, 3]
        class_scores = tf.reshape(cells, [1, n, NUM_CLASSES])
        background = 1.0 - tf.reduce_max(class_scores, axis=-1, keepdims=True)
        class_predictions = tf.concat([background, class_scores], axis=-1)  # [1, N, C+1]
        box_encodings = tf.zeros([1, n, 4]) + tf.constant(SSD_ENCODING, tf.float32)
        boxes, classes, scores, num = postprocess(box_encodings, class_predictions, tf.constant(anchors))
        return {
            "detection_boxes": boxes,
            "detection_classes": classes,
            "detection_scores": scores,
            "num_detections": num,
        }

    return serve


def ssd_expected_rule() -> list[dict[str, Any]]:
    """Expected detections on the reference image, from the design alone."""
    img = reference_image_uint8()[0].astype(np.float64) / 255.0
    dets: list[dict[str, Any]] = []
    for r in range(SSD_GRID):
        for c in range(SSD_GRID):
            cell = img[r * SSD_CELL : (r + 1) * SSD_CELL, c * SSD_CELL : (c + 1) * SSD_CELL]
            means = cell.reshape(-1, 3).mean(axis=0)
            cls = int(np.argmax(means))
            score = float(means[cls])
            if score > SSD_ATTRS["nms_score_threshold"]:
                yc, xc = (r + 0.5) / SSD_GRID, (c + 0.5) / SSD_GRID
                half = SSD_BOX_SCALE / SSD_GRID / 2.0
                dets.append({"class": cls, "score": score, "box_yxyx": [yc - half, xc - half, yc + half, xc + half]})
    dets.sort(key=lambda d: -d["score"])
    return dets


def make_ssd(out_dir: Path) -> None:

    fn = build_ssd_fn()
    variants = [
        ("test_ssd_postprocess", convert(fn, quantize=False, custom_ops=True)),
        (
            "test_ssd_postprocess_uint8",
            convert(fn, quantize=True, input_type=tf.uint8, custom_ops=True),
        ),
    ]
    for stem, data in variants:
        path = out_dir / f"{stem}.tflite"
        path.write_bytes(data)
        desc = describe_interpreter(path)
        assert "TFLite_Detection_PostProcess" in desc["ops"], desc["ops"]
        outputs = run_model(path, reference_image_uint8())
        by_key = ssd_outputs_by_key(path, outputs)
        num = int(by_key["num_detections"][0])
        measured = [
            {
                "class": int(by_key["detection_classes"][0, i]),
                "score": float(by_key["detection_scores"][0, i]),
                "box_yxyx": [float(v) for v in by_key["detection_boxes"][0, i]],
            }
            for i in range(num)
        ]
        rule = ssd_expected_rule()
        check_same_detections(measured, rule, box_tol=1e-5, score_tol=0.01)
        meta = {
            "description": (
                "Tiny SSD-style model ending in the TFLite_Detection_PostProcess custom op. "
                f"The {INPUT_SIZE}x{INPUT_SIZE} RGB input is cut into a {SSD_GRID}x{SSD_GRID} "
                f"grid of {SSD_CELL}x{SSD_CELL} px cells, one anchor per cell (row-major). "
                "Class c score of a cell = mean of channel c over the cell in [0,1] "
                "(0=red, 1=green, 2=blue); background score = 1 - max class score. "
                "Box encodings are constant: each box is the central half of its cell. "
                "Fast NMS (use_regular_nms=false) keeps boxes scoring > nms_score_threshold, "
                "sorted by descending score. Entries past num_detections are unspecified "
                "(the uint8 variant leaves non-zero garbage there)."
            ),
            "input_semantics": (
                "float32 RGB in [0,1] = pixel/255"
                if stem == "test_ssd_postprocess"
                else "uint8 RGB pixels 0..255 (scale 1/255, zero_point 0)"
            ),
            "input_size": [INPUT_SIZE, INPUT_SIZE],
            "num_classes": NUM_CLASSES,
            "labels": CLASS_NAMES,
            "class_index": "0-based, background excluded (as the op outputs)",
            "box_format": "normalized [ymin, xmin, ymax, xmax]",
            "postprocess_attrs": SSD_ATTRS,
            "anchors_ycxchw": ssd_anchors().tolist(),
            "box_encoding_ty_tx_th_tw": SSD_ENCODING,
            "output_keys_by_interpreter_order": ssd_output_keys(path),
            "tensors": desc,
            "reference_image": REFERENCE_IMAGE,
            "expected_detections": measured,
            "sha256": sha256(data),
        }
        write_json(out_dir / f"{stem}.json", meta)
        print(f"wrote {path} ({len(data)} bytes), {num} detections on the reference image")


def ssd_output_keys(model_path: Path) -> list[str]:
    """Signature output key of each output, in get_output_details() order."""

    interp = Interpreter(model_path=str(model_path))
    runner = interp.get_signature_runner("serving_default")
    index_to_key = {int(d["index"]): str(k) for k, d in runner.get_output_details().items()}
    return [index_to_key[int(d["index"])] for d in interp.get_output_details()]


def ssd_outputs_by_key(model_path: Path, outputs: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:

    interp = Interpreter(model_path=str(model_path))
    names = [str(d["name"]) for d in interp.get_output_details()]
    keys = ssd_output_keys(model_path)
    return {key: outputs[name] for key, name in zip(keys, names, strict=True)}


def check_same_detections(
    measured: list[dict[str, Any]],
    expected: list[dict[str, Any]],
    *,
    box_tol: float,
    score_tol: float,
) -> None:
    assert len(measured) == len(expected), (measured, expected)
    for got, want in zip(measured, expected, strict=True):
        assert got["class"] == want["class"], (got, want)
        assert abs(got["score"] - want["score"]) <= score_tol, (got, want)
        key = "box_yxyx" if "box_yxyx" in want else "box_xyxy_norm"
        assert np.allclose(got[key], want[key], atol=box_tol), (got, want)


# -------------------------------------------------------------------------- YOLO

YOLO_CELL = 8  # 8x8 px cells -> 8x8 grid
YOLO_GRID = INPUT_SIZE // YOLO_CELL
YOLO_CONF_THRESHOLD = 0.25


def yolo_boxes_cxcywh(normalized: bool) -> npt.NDArray[np.float32]:
    """[N, 4] (cx, cy, w, h), one box per cell = the cell itself, row-major."""
    rows = []
    for r in range(YOLO_GRID):
        for c in range(YOLO_GRID):
            rows.append([(c + 0.5) * YOLO_CELL, (r + 0.5) * YOLO_CELL, YOLO_CELL, YOLO_CELL])
    boxes = np.asarray(rows, dtype=np.float32)
    if normalized:
        boxes /= INPUT_SIZE
    return boxes


def build_yolo_fn(version: int, normalized: bool) -> Any:

    n = YOLO_GRID * YOLO_GRID
    boxes = tf.constant(yolo_boxes_cxcywh(normalized)[None])  # [1, N, 4]

    @tf.function(input_signature=[tf.TensorSpec([1, INPUT_SIZE, INPUT_SIZE, 3], tf.float32, name="images")])
    def serve(images: Any) -> Any:
        # Cell means as a depthwise conv (not AVERAGE_POOL_2D): a conv gets its
        # own output scale, so the int8 input keeps scale 1/255 even though the
        # output (which holds pixel coordinates) has a much coarser one.
        kernel = tf.constant(np.full((YOLO_CELL, YOLO_CELL, NUM_CLASSES, 1), 1.0 / YOLO_CELL**2, np.float32))
        cells = tf.nn.depthwise_conv2d(images, kernel, [1, YOLO_CELL, YOLO_CELL, 1], "VALID")
        scores = tf.reshape(cells, [1, n, NUM_CLASSES])  # class c = channel mean
        if version == 8:
            out = tf.concat([boxes, scores], axis=-1)  # [1, N, 4+nc]
            return tf.transpose(out, [0, 2, 1])  # [1, 4+nc, N]
        objectness = tf.reduce_max(scores, axis=-1, keepdims=True)
        return tf.concat([boxes, objectness, scores], axis=-1)  # [1, N, 5+nc]

    return serve


def decode_yolo(raw: npt.NDArray[np.float32], version: int, normalized: bool) -> list[dict[str, Any]]:
    """Reference decode (no NMS needed: the boxes never overlap)."""
    if version == 8:
        preds = raw[0].T  # [N, 4+nc]
        boxes, scores = preds[:, :4], preds[:, 4:]
    else:
        preds = raw[0]  # [N, 5+nc]
        boxes, scores = preds[:, :4], preds[:, 4:5] * preds[:, 5:]
    scale = 1.0 if normalized else 1.0 / INPUT_SIZE
    dets: list[dict[str, Any]] = []
    for i in range(preds.shape[0]):
        cls = int(np.argmax(scores[i]))
        score = float(scores[i, cls])
        if score < YOLO_CONF_THRESHOLD:
            continue
        cx, cy, w, h = (float(v) * scale for v in boxes[i])
        norm = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        dets.append(
            {
                "anchor": i,
                "class": cls,
                "score": score,
                "box_xyxy_norm": norm,
                "box_xyxy_px": [v * INPUT_SIZE for v in norm],
            }
        )
    dets.sort(key=lambda d: (-d["score"], d["anchor"]))
    return dets


def yolo_expected_rule(version: int) -> list[dict[str, Any]]:
    img = reference_image_uint8()[0].astype(np.float64) / 255.0
    dets: list[dict[str, Any]] = []
    for r in range(YOLO_GRID):
        for c in range(YOLO_GRID):
            cell = img[r * YOLO_CELL : (r + 1) * YOLO_CELL, c * YOLO_CELL : (c + 1) * YOLO_CELL]
            means = cell.reshape(-1, 3).mean(axis=0)
            cls = int(np.argmax(means))
            score = float(means[cls]) if version == 8 else float(means[cls]) ** 2
            if score >= YOLO_CONF_THRESHOLD:
                x0, y0 = c * YOLO_CELL / INPUT_SIZE, r * YOLO_CELL / INPUT_SIZE
                d = YOLO_CELL / INPUT_SIZE
                dets.append(
                    {
                        "anchor": r * YOLO_GRID + c,
                        "class": cls,
                        "score": score,
                        "box_xyxy_norm": [x0, y0, x0 + d, y0 + d],
                    }
                )
    dets.sort(key=lambda d: (-d["score"], d["anchor"]))
    return dets


def make_yolo(out_dir: Path, stem: str, version: int, normalized: bool) -> None:

    fn = build_yolo_fn(version, normalized)
    data = convert(fn, quantize=True, input_type=tf.int8, output_type=tf.int8)
    path = out_dir / f"{stem}.tflite"
    path.write_bytes(data)
    desc = describe_interpreter(path)

    interp = Interpreter(model_path=str(path))
    out_detail = interp.get_output_details()[0]
    raw_q = next(iter(run_model(path, reference_image_uint8()).values()))
    raw = dequantize(raw_q, out_detail)
    measured = decode_yolo(raw, version, normalized)
    scale = float(out_detail["quantization"][0])
    # Coordinates and scores share one int8 scale: allow one step (squared for v5).
    tol = 2.5 * scale if version == 8 else 2.5 * scale + scale
    check_same_detections(
        measured, yolo_expected_rule(version), box_tol=tol / (1.0 if normalized else INPUT_SIZE), score_tol=tol
    )
    n = YOLO_GRID * YOLO_GRID
    if version == 8:
        layout = (
            f"[1, 4+nc, N] = [1, {4 + NUM_CLASSES}, {n}]; rows 0..3 = cx, cy, w, h; "
            f"rows 4.. = class scores (already sigmoid-like, in [0,1]); no objectness"
        )
        score_rule = "score(class c) = mean of channel c over the cell, in [0,1]"
    else:
        layout = (
            f"[1, N, 5+nc] = [1, {n}, {5 + NUM_CLASSES}]; cols 0..3 = cx, cy, w, h; "
            "col 4 = objectness; cols 5.. = class probabilities; "
            "final score = objectness * class probability"
        )
        score_rule = (
            "class prob c = mean of channel c over the cell; objectness = "
            "max over c of those; final score = objectness * class prob"
        )
    meta = {
        "description": (
            f"Tiny YOLOv{version}-style int8 model. The {INPUT_SIZE}x{INPUT_SIZE} RGB input "
            f"is cut into a {YOLO_GRID}x{YOLO_GRID} grid of {YOLO_CELL}x{YOLO_CELL} px cells; "
            "candidate n = row*grid + col has the box of its cell (constant). "
            + score_rule
            + ". Class 0=red, 1=green, 2=blue. Boxes never overlap, so NMS "
            "keeps every candidate above the threshold."
        ),
        "version": version,
        "output_layout": layout,
        "coords": "normalized [0,1]" if normalized else "input pixels",
        "input_size": [INPUT_SIZE, INPUT_SIZE],
        "input_semantics": ("int8 RGB: q = pixel - 128 (float = pixel/255; scale 1/255, zero_point -128)"),
        "nc": NUM_CLASSES,
        "num_candidates": n,
        "labels": CLASS_NAMES,
        "conf_threshold_used": YOLO_CONF_THRESHOLD,
        "tensors": desc,
        "reference_image": REFERENCE_IMAGE,
        "expected_detections": measured,
        "expected_detections_exact_math": yolo_expected_rule(version),
        "sha256": sha256(data),
    }
    write_json(out_dir / f"{stem}.json", meta)
    print(f"wrote {path} ({len(data)} bytes), {len(measured)} detections on the reference image")


# --------------------------------------------------------------------- MobileNet


def make_mobilenet(out_dir: Path, var_dir: Path) -> None:

    keras.utils.set_random_seed(SEED)
    model = keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=1.0, weights=None, classes=1000)

    def representative() -> Iterator[list[npt.NDArray[np.float32]]]:
        rng = np.random.default_rng(SEED)
        for _ in range(8):
            yield [rng.uniform(-1.0, 1.0, (1, 224, 224, 3)).astype(np.float32)]

    with tempfile.TemporaryDirectory() as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(
            name="serve",
            fn=lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([1, 224, 224, 3], tf.float32, name="input")],
        )
        archive.write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
        data: bytes = converter.convert()
    target = out_dir if len(data) <= MAX_COMMITTED_BYTES else var_dir
    target.mkdir(parents=True, exist_ok=True)
    path = target / "mobilenet_v2_int8.tflite"
    path.write_bytes(data)
    meta = {
        "description": (
            "MobileNetV2 alpha=1.0 224x224, RANDOM weights (weights=None, seed 0), "
            "full-integer quantized, uint8 input/output. Outputs are meaningless: "
            "for timing benchmarks only. Input float range [-1,1] before quantization."
        ),
        "tensors": describe_interpreter(path),
        "sha256": sha256(data),
        "bytes": len(data),
    }
    write_json(target / "mobilenet_v2_int8.json", meta)
    print(f"wrote {path} ({len(data)} bytes)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build small TFLite test models.")
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument(
        "--var-dir", type=Path, default=REPO_ROOT / "var" / "models", help="where models too large to commit go"
    )
    parser.add_argument("--only", nargs="*", choices=["ssd", "yolo", "mobilenet"], default=["ssd", "yolo", "mobilenet"])
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)

    tf.random.set_seed(SEED)

    def make_yolos() -> None:
        make_yolo(out_dir, "test_yolo_v8", version=8, normalized=False)
        make_yolo(out_dir, "test_yolo_v8_norm", version=8, normalized=True)
        make_yolo(out_dir, "test_yolo_v5", version=5, normalized=True)

    steps: dict[str, Callable[[], None]] = {
        "ssd": lambda: make_ssd(out_dir),
        "yolo": make_yolos,
        "mobilenet": lambda: make_mobilenet(out_dir, args.var_dir),
    }
    for name in args.only:
        steps[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
