"""The health watch after a swap: the new version's error rate and latency against their limits."""

from __future__ import annotations

import asyncio
import time

from cloud_sync.models import CanaryConfig, HealthConfig
from edge_runtime.updates._health import HealthMonitor

POLL_S = 0.2


async def watch(
    monitor: HealthMonitor, baseline_s: float | None, config: HealthConfig, canary: CanaryConfig
) -> str | None:
    """Watch for `config.duration` seconds; the reason to roll back, or None when the version stayed healthy.

    A judgement needs a full window of runs. Latency is judged against the active model's median at the canary
    (not at all when the canary did not run, or `max_latency_factor` is null: the default).
    """
    end = time.monotonic() + config.duration
    while time.monotonic() < end:
        await asyncio.sleep(POLL_S)
        health = monitor.health()
        if health.runs < config.window:
            continue
        if health.error_rate > config.max_error_rate:
            return (
                f"health: {health.error_rate:.0%} of the last {health.runs} runs failed or gave non-finite "
                f"outputs (limit {config.max_error_rate:.0%})"
            )
        if config.max_latency_factor is not None and baseline_s is not None and health.median_s is not None:
            limit = baseline_s * config.max_latency_factor + canary.latency_slack_ms / 1e3
            if health.median_s > limit:
                return (
                    f"health: median run {health.median_s * 1e3:.2f} ms over {limit * 1e3:.2f} ms "
                    f"({config.max_latency_factor}x the previous version's {baseline_s * 1e3:.2f} ms)"
                )
    return None
