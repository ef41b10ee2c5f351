"""Non-maximum suppression, plain and weighted (MediaPipe's WEIGHTED: overlapping boxes averaged by score)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from edge_runtime.inference._interpreter import FloatArray

IndexArray = npt.NDArray[np.intp]


def iou_one_to_many(box: FloatArray, boxes: FloatArray) -> FloatArray:
    """Intersection over union of ``box`` (4,) with each of ``boxes`` (N, 4), corner format."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    out: FloatArray = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)
    return out


def nms(boxes: FloatArray, scores: FloatArray, iou: float, limit: int) -> IndexArray:
    """Indices kept by greedy NMS, best score first, at most ``limit``."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[iou_one_to_many(boxes[best], boxes[rest]) <= iou]
    return np.asarray(keep, dtype=np.intp)


def weighted_nms(boxes: FloatArray, scores: FloatArray, iou: float, limit: int) -> tuple[FloatArray, IndexArray]:
    """MediaPipe-style weighted NMS: each kept box is the score-weighted mean of the boxes it suppresses.

    Returns the merged boxes and the index of the best box of each cluster (for its score and class).
    """
    order = np.argsort(-scores, kind="stable")
    merged: list[FloatArray] = []
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best = int(order[0])
        overlap = iou_one_to_many(boxes[best], boxes[order]) > iou
        overlap[0] = True
        cluster = order[overlap]
        weights = scores[cluster]
        merged.append((boxes[cluster] * weights[:, None]).sum(axis=0) / weights.sum())
        keep.append(best)
        order = order[~overlap]
    if not keep:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.intp)
    return np.stack(merged).astype(np.float32), np.asarray(keep, dtype=np.intp)
