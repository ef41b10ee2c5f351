"""How sure a percentile is: a bootstrap interval, printed beside it.

A p99 of 300 frames is the 3rd-worst of them, and moves by a good part of itself from one run to the next; the
interval says how far (resampling the frames with replacement, `RESAMPLES` times, seeded: the same samples give
the same interval). A ratio of two p99s (busy / idle uplink) gets its interval from resampling both.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

RESAMPLES = 1000
LEVEL = 0.95


def _percentiles(samples: npt.NDArray[np.float64], q: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    picks = rng.integers(0, samples.size, size=(RESAMPLES, samples.size))
    return np.asarray(np.percentile(samples[picks], q, axis=1), dtype=np.float64)


def _bounds(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    tail = 50.0 * (1.0 - LEVEL)
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def interval(samples: npt.ArrayLike, q: float = 99.0, *, seed: int = 0) -> tuple[float, float]:
    """The 95% bootstrap interval of the `q`th percentile of `samples` ((0, 0) when there are none)."""
    data = np.asarray(samples, dtype=np.float64)
    if data.size == 0:
        return 0.0, 0.0
    return _bounds(_percentiles(data, q, np.random.default_rng(seed)))


def ratio_interval(top: npt.ArrayLike, bottom: npt.ArrayLike, q: float = 99.0, *, seed: int = 0) -> tuple[float, float]:
    """The 95% bootstrap interval of percentile(top) / percentile(bottom) ((0, 0) when either has none)."""
    a, b = np.asarray(top, dtype=np.float64), np.asarray(bottom, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    return _bounds(_percentiles(a, q, rng) / _percentiles(b, q, rng))  # latencies: never 0
