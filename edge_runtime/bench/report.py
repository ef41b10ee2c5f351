"""Print the benchmark's figures side by side, write them as JSON, and plot latencies when matplotlib is there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGETS = {
    "overhead": "per-frame overhead <= max(3%, 100 µs) of raw invoke; saturated throughput >= 97% of the raw loop",
    "overload": "high p99 <= 2.1 S, 0 high drops, low >= 95% of the capacity high leaves",
    "lanes": "high p99 <= 1.3 S with a reserved lane",
    "memory": "4 streams <= 100 MiB RSS",
}


def overhead_lines(o: dict[str, Any]) -> list[str]:
    raw, bare, hops, rt = o["raw"], o["raw_run"], o["hops"], o["runtime"]
    budget = max(0.03 * raw["median_us"], 100.0)
    return [
        "overhead (frames at the model's input size; medians)",
        f"  raw invoke()          {raw['median_us']:8.0f} µs   saturated {raw['fps']:7.1f} fps",
        f"  bare Runner.run       {bare['median_us']:8.0f} µs   saturated {bare['fps']:7.1f} fps"
        f"   (preprocess + decode {o['pre_post_us']:.0f} µs)",
        f"  bare hops, no runtime {hops['median_us']:8.0f} µs"
        f"   (thread -> thread -> loop wake-ups {o['hops_us']:.0f} µs: overhead floor {o['hops_floor_us']:.0f} µs)",
        f"  runtime, one in flight{rt['median_us']:8.0f} µs   saturated {rt['fps']:7.1f} fps"
        f"   (scheduler + stream path {o['path_us']:.0f} µs, of which the runtime's own {o['runtime_own_us']:.0f} µs)",
        f"  overhead              {o['overhead_us']:8.0f} µs ({o['overhead_pct']:.1f}%, budget {budget:.0f} µs)   "
        f"saturated {o['saturated_frame_us']:.0f} µs/frame, throughput ratio {o['throughput_ratio']:.3f}",
    ]


def overload_lines(title: str, case: dict[str, Any]) -> list[str]:
    lines = [
        f"{title}: policy {case['policy']}, lanes {case['lanes']}, reserve {case['reserve'] or '-'}"
        f"{'' if case.get('reserved_alone') is None else ', reserved_alone ' + str(case['reserved_alone']).lower()}"
        f"{'' if case.get('anticipate') is None else ', anticipate ' + str(case['anticipate']).lower()}; "
        f"S {case['service_time_ms']:.2f} ms alone, {case['loaded_service_time_ms']:.2f} ms on the lanes under load"
    ]
    for name, c in case["classes"].items():
        drops = ", ".join(f"{k} {v}" for k, v in sorted(c["drops"].items()) if v) or "none"
        lines.append(
            f"  {name:<5} offered {case['offered_fps'][name]:6.1f} fps  done {c['goodput_fps']:6.1f} fps  "
            f"p50 {c['p50_S']:5.2f} S  p99 {c['p99_S']:5.2f} S {_span(c['p99_interval_S'])} "
            f"({c['p99_loaded_S']:.2f} loaded S)  "
            f"max {c['max_S']:6.2f} S  drops {c['drop_pct']:5.2f}% ({drops})"
        )
    lines.append(f"  low got {100 * case['low_share_of_left']:.1f}% of the capacity high leaves")
    lines += [_plan_line(name, c) for name, c in case["classes"].items()]
    return lines


def _span(bounds: list[float]) -> str:
    """A p99's 95% bootstrap interval, as printed beside it."""
    return f"[{bounds[0]:.2f}-{bounds[1]:.2f}]"


def _plan_line(name: str, c: dict[str, Any]) -> str:
    """The capacity plan's wait of the class's served jobs beside their measured p99 queue wait, and its bound."""

    def ms(value: float | None) -> str:
        return "unbounded" if value is None else f"{value:.2f} ms"

    measured = c["wait_p99_ms"]
    planned = c["plan_wait_loaded_ms"]
    off = f" ({(measured - planned) / planned:+.0%})" if planned else ""
    return (
        f"  plan {name:<5} wait: predicted {ms(c['plan_wait_ms'])} (S alone), {ms(planned)} (S on the lanes);"
        f" measured p99 {measured:.2f} ms{off}; plan serves {c['plan_served']:.0%} of its frames"
        f" (worst-case wait {ms(c['plan_bound_loaded_ms'])})"
    )


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))


def plot(results: dict[str, Any], path: Path) -> bool:
    """A latency CDF per class and policy; False when matplotlib is not installed."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 5))
    s_ms = results["service_time_ms"]
    for key in ("fifo", "priority", "lanes"):
        case = results.get(key)
        if not case:
            continue
        for name, c in case["classes"].items():
            data = np.sort(np.asarray(c["latencies_ms"])) / s_ms
            if data.size:
                ax.plot(data, np.linspace(0, 1, data.size), label=f"{key} {name}")
    ax.set_xscale("log")
    ax.set_xlabel("capture-to-result latency (multiples of S)")
    ax.set_ylabel("fraction of results")
    ax.set_title(f"2x overload, S = {s_ms:.2f} ms")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True
