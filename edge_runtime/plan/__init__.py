"""The capacity plan: will these streams fit this device? Measured service times, predicted waits, a verdict.

`edge-runtime plan FILE` prints it (exit 0: every deadline holds, 1: not); the runtime logs it at start.
"""

from __future__ import annotations

from edge_runtime.plan._budget import RuntimePlan
from edge_runtime.plan._measure import DEFAULT_CACHE, measure_handle, measure_runs, service_times
from edge_runtime.plan._predict import Plan, ServiceTime, StreamPlan, predict
from edge_runtime.plan._report import as_json, fixes, lines, verdict

__all__ = [
    "DEFAULT_CACHE",
    "Plan",
    "RuntimePlan",
    "ServiceTime",
    "StreamPlan",
    "as_json",
    "fixes",
    "lines",
    "measure_handle",
    "measure_runs",
    "predict",
    "service_times",
    "verdict",
]
