"""BlazeFace short range (the real model) through load_model, against a plain reference decode."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from skimage import data

from edge_runtime.inference import TfliteModelHandle
from tests.inference.conftest import frame


def _bgr(name: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
    rgb = getattr(data, name)()
    bgr: np.ndarray[Any, np.dtype[np.uint8]] = np.ascontiguousarray(rgb[:, :, ::-1])
    return bgr


def _reference_best_box(model: Path, rgb: np.ndarray[Any, np.dtype[np.uint8]]) -> tuple[float, list[float]]:
    """Straightforward decode of the best anchor: square image, so a plain resize is the letterbox."""
    tensor = cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1.0
    interp = Interpreter(model_path=str(model))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], tensor[None])
    interp.invoke()
    outputs = {d["name"]: interp.get_tensor(d["index"])[0] for d in interp.get_output_details()}
    anchors = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = 128 // stride
        for y in range(cells):
            for x in range(cells):
                anchors += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    assert len(anchors) == 896
    scores = 1 / (1 + np.exp(-np.clip(outputs["classificators"][:, 0].astype(np.float64), -100, 100)))
    best = int(np.argmax(scores))
    raw = outputs["regressors"][best]
    cx, cy = raw[0] / 128 + anchors[best][0], raw[1] / 128 + anchors[best][1]
    w, h = raw[2] / 128, raw[3] / 128
    return float(scores[best]), [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def test_face_found_in_astronaut(blazeface: TfliteModelHandle, blazeface_path: Path) -> None:
    image = _bgr("astronaut")
    kind, payload = blazeface.instantiate().run(frame(image))
    assert kind == "detections"
    (face,) = payload["detections"]
    assert face["label"] == "face"
    assert face["class_id"] == 0
    x0, y0, x1, y1 = face["box"]
    assert 0.3 <= x0 < x1 <= 0.6
    assert 0.05 <= y0 < y1 <= 0.4
    ref_score, ref_box = _reference_best_box(blazeface_path, np.ascontiguousarray(image[:, :, ::-1]))
    assert face["score"] == pytest.approx(ref_score, abs=0.02)
    assert face["box"] == pytest.approx(ref_box, abs=0.02)


def test_no_face_in_coffee(blazeface: TfliteModelHandle) -> None:
    kind, payload = blazeface.instantiate().run(frame(_bgr("coffee")))
    assert (kind, payload) == ("detections", {"detections": []})


@pytest.mark.parametrize("wide", [True, False])
def test_letterbox_undone(blazeface: TfliteModelHandle, wide: bool) -> None:
    """The astronaut pasted at the end of a 640x512 (or 512x640) canvas: the box follows it on the canvas."""
    runner = blazeface.instantiate()
    (square,) = runner.run(frame(_bgr("astronaut")))[1]["detections"]
    canvas = np.zeros((512, 640, 3) if wide else (640, 512, 3), np.uint8)
    canvas[-512:, -512:] = _bgr("astronaut")
    (moved,) = runner.run(frame(canvas))[1]["detections"]
    x0, y0, x1, y1 = square["box"]
    k, shift = 512 / 640, 128 / 640
    expected = [shift + x0 * k, y0, shift + x1 * k, y1] if wide else [x0, shift + y0 * k, x1, shift + y1 * k]
    assert moved["box"] == pytest.approx(expected, abs=0.02)


def test_two_runners_in_two_threads_agree(blazeface: TfliteModelHandle) -> None:
    images = [_bgr("astronaut"), _bgr("coffee"), _bgr("chelsea")] * 3
    results: dict[str, list[Any]] = {}

    def lane(name: str) -> None:
        runner = blazeface.instantiate()
        results[name] = [runner.run(frame(image, seq)) for seq, image in enumerate(images)]

    threads = [threading.Thread(target=lane, args=(f"lane-{i}",), name=f"lane-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results["lane-0"] == results["lane-1"]
    assert len(results["lane-0"]) == len(images)
    assert results["lane-0"][0][1]["detections"]
