"""Anchor strides that fit a model's anchor count, for `models inspect` to suggest (MediaPipe SSD anchors)."""

from __future__ import annotations

import math
from itertools import combinations_with_replacement

CANDIDATE_STRIDES = (8, 16, 32, 64, 128)
MAX_LAYERS = 6
ANCHORS_PER_LAYER = 2  # one aspect ratio (1.0) plus the interpolated anchor, per layer and location


def anchor_count(strides: tuple[int, ...], width: int, height: int) -> int:
    """How many anchors the default anchor options make for ``strides`` on a ``width`` x ``height`` input."""
    cells = (math.ceil(width / s) * math.ceil(height / s) for s in strides)
    return sum(ANCHORS_PER_LAYER * n for n in cells)


def fit_strides(count: int, width: int, height: int) -> tuple[int, ...] | None:
    """The shortest non-decreasing stride list (smallest strides first on ties) making ``count`` anchors."""
    for layers in range(1, MAX_LAYERS + 1):
        for strides in combinations_with_replacement(CANDIDATE_STRIDES, layers):
            if anchor_count(strides, width, height) == count:
                return strides
    return None
