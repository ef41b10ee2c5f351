"""The capacity plan: will these streams fit this device? Measured service times, predicted waits, a verdict.

`edge-runtime plan FILE` prints it (exit 0: every deadline holds, 1: not); the runtime logs it at start.
"""

from __future__ import annotations

from edge_runtime.plan._measure import DEFAULT_CACHE, measure_handle, service_times
from edge_runtime.plan._predict import Plan, ServiceTime, StreamPlan, predict
from edge_runtime.plan._report import as_json, fixes, lines, verdict

__all__ = [
    "DEFAULT_CACHE",
    "Plan",
    "ServiceTime",
    "StreamPlan",
    "as_json",
    "fixes",
    "lines",
    "measure_handle",
    "predict",
    "service_times",
    "verdict",
]
