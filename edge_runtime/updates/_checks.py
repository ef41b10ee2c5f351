"""The checks a staged model passes before the swap: it loads for the pipeline, and its canary runs are sane.

The canary's rule: the model's outputs are finite on recent frames, and, given the runtime's plan, its measured
service time still fits every stream that uses it (its fps and budget). The ratio to the active model's time
(`canary.latency_factor`) is an optional extra guard.

Both are blocking (they open interpreters and invoke them) and run in a named thread.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from cloud_sync.models import CanaryConfig, StoredModel
from edge_runtime.frames import Frame
from edge_runtime.inference import LiteInterpreter, ModelConfig, ModelError, TfliteModelHandle, load_model
from edge_runtime.jobs import ModelHandle
from edge_runtime.plan import RuntimePlan, ServiceTime, measure_runs
from edge_runtime.sections import AcceleratorConfig
from edge_runtime.updates._health import WatchedHandle, outputs_finite


class UpdateRejected(Exception):
    """A staged model that must not be served; the text is the one-line reason reported to the cloud."""


def config_for(base: ModelConfig, stored: StoredModel) -> ModelConfig:
    """The configured description with the version's file and its description changes (if any) applied."""
    data: dict[str, Any] = base.model_dump(exclude_none=True)
    data.update(stored.model or {})
    data.update(path=str(stored.path), sha256=stored.sha256, version=stored.version)
    try:
        return ModelConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "model"
        raise UpdateRejected(f"model description: {where}: {first['msg']}") from None


def load_checked(
    stored: StoredModel, base: ModelConfig, accel: AcceleratorConfig, base_dir: Path, active: ModelHandle | None
) -> TfliteModelHandle:
    """Load in a new interpreter: the input must match the active model's (unless the manifest changes the model's
    description), then the configured decoder must accept the outputs."""
    config = config_for(base, stored)
    try:
        current = input_shape(active) if active is not None and not stored.model else None
        if current is not None:
            new = LiteInterpreter(stored.path, accel, f"model {stored.name!r} ({stored.path})").inputs[0].shape
            if new != current:
                raise UpdateRejected(f"input shape {list(new)} does not fit the pipeline (active: {list(current)})")
        return load_model(stored.name, config, accel, base_dir, stored.version)
    except ModelError as exc:
        raise UpdateRejected(str(exc)) from None


def input_shape(handle: ModelHandle) -> tuple[int, ...] | None:
    inner = handle.inner if isinstance(handle, WatchedHandle) else handle
    return inner.model.plan.tensor.shape if isinstance(inner, TfliteModelHandle) else None


@dataclass(frozen=True, slots=True)
class CanaryResult:
    frames: int
    median_s: float
    baseline_s: float | None  # the active model on the same frames
    service: ServiceTime | None = None  # measured for the plan's budget check

    def figures(self) -> dict[str, Any]:
        baseline = None if self.baseline_s is None else round(self.baseline_s * 1e3, 3)
        figures = {"frames": self.frames, "median_ms": round(self.median_s * 1e3, 3), "baseline_ms": baseline}
        if self.service is not None:
            figures["service_p99_ms"] = round(self.service.p99_s * 1e3, 3)
        return figures


BUDGET_MEASURE_S = 0.5  # measuring the new model's service time for the plan


def canary(
    new: TfliteModelHandle,
    active: ModelHandle | None,
    frames: list[Frame],
    config: CanaryConfig,
    budget: RuntimePlan | None = None,
) -> CanaryResult:
    """Run the new model (and the active one, for a baseline) on recent frames; UpdateRejected on a failure,
    or when (with the runtime's plan) the model's service time breaks a stream's budget."""
    if config.frames == 0:
        return CanaryResult(0, 0.0, None)
    frames = frames[-config.frames :] or _stand_ins(config.frames)
    runner = new.instantiate()
    times = []
    for i, frame in enumerate([frames[0], *frames]):  # the first run warms up and is not timed
        start = time.perf_counter()
        try:
            runner.run(frame)
        except Exception as exc:
            raise UpdateRejected(f"canary: fails on a recent frame ({type(exc).__name__}: {exc})") from None
        if i:
            times.append(time.perf_counter() - start)
        if not outputs_finite(runner):
            raise UpdateRejected("canary: non-finite outputs (NaN or inf)")
    result = CanaryResult(len(frames), statistics.median(times), _baseline(active, frames))
    _check_ratio(result, config)
    if budget is None:
        return result
    service = measure_runs(runner, frames, BUDGET_MEASURE_S)
    reason = budget.breaks(new.ref.name, service)
    if reason is not None:
        raise UpdateRejected(reason)
    return CanaryResult(result.frames, result.median_s, result.baseline_s, service)


def _baseline(active: ModelHandle | None, frames: list[Frame]) -> float | None:
    if active is None:
        return None
    inner = active.inner if isinstance(active, WatchedHandle) else active
    runner = inner.instantiate()
    runner.run(frames[0])
    times = []
    for frame in frames:
        start = time.perf_counter()
        runner.run(frame)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _check_ratio(result: CanaryResult, config: CanaryConfig) -> None:
    if config.latency_factor is None or result.baseline_s is None:
        return
    budget = result.baseline_s * config.latency_factor + config.latency_slack_ms / 1e3
    if result.median_s > budget:
        raise UpdateRejected(
            f"canary: median run {result.median_s * 1e3:.2f} ms over the budget {budget * 1e3:.2f} ms "
            f"({config.latency_factor}x the active model's {result.baseline_s * 1e3:.2f} ms)"
        )


def _stand_ins(count: int) -> list[Frame]:
    """No recent frames yet: grey frames with a little noise."""
    rng = np.random.default_rng(0)
    now, mono = time.time(), time.monotonic()
    return [Frame("canary", i, now, mono, rng.integers(96, 160, (64, 64, 3), dtype=np.uint8)) for i in range(count)]
