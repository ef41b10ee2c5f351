"""`edge-runtime bench`: overhead, overload (fifo vs priority), lanes, memory; printed, JSON, optional PNG."""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any

from edge_runtime.bench import floor, gates, memory, overhead, overload, report
from edge_runtime.bench._setup import DEFAULT_MODEL, BenchModel, input_size, measure_service_time

PARTS = ("overhead", "overload", "lanes", "memory", "uplink", "gates")


def add_bench_command(sub: Any) -> None:
    bench = sub.add_parser("bench", help="measure overhead, overload behaviour, lanes and memory (no camera)")
    bench.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="a .tflite classifier (default MobileNetV2)")
    bench.add_argument("--seconds", type=float, default=20.0, help="length of each overload or uplink run (s)")
    bench.add_argument("--threads", type=int, default=1, help="interpreter threads per lane (default 1)")
    bench.add_argument("--out", type=Path, default=Path("var/bench"), help="where bench.json and the plot go")
    bench.add_argument("--only", nargs="*", choices=[*PARTS], help="run only these parts")
    bench.add_argument(
        "--profile", action="store_true", help="overhead: print the event loop thread's top functions (cProfile)"
    )
    bench.set_defaults(handler=run_bench)


def run_bench(ns: argparse.Namespace) -> int:
    from edge_runtime.bench import uplink  # paho and the outbox: not for `edge-runtime run`

    parts = set(ns.only or PARTS)
    if parts == {"gates"}:  # its own models: no classifier to measure first
        return _run_gates(ns)
    model = BenchModel(ns.model, input_size(ns.model, ns.threads), ns.threads)
    s = measure_service_time(model)
    results: dict[str, Any] = {"model": str(model.path), "threads": model.threads, "service_time_ms": s * 1e3}
    print(f"model {model.path.name}: S = {s * 1e3:.2f} ms per frame (preprocess + invoke + decode), capacity "
          f"{1 / s:.0f} fps on one lane")  # fmt: skip
    started = time.monotonic()
    if "overhead" in parts:
        frames, seconds = min(500, int(100 * ns.seconds)), min(5.0, ns.seconds / 3)
        results["overhead"] = overhead.run(model, frames, seconds, profile=ns.profile)
        _say(report.overhead_lines(results["overhead"]))
        if ns.profile:
            _say(["event loop thread, top functions by own time (cProfile):", *results["overhead"]["loop_profile"]])
    if "overload" in parts:
        _overload(results, model, s, ns.seconds)
    if "lanes" in parts:
        _lanes(results, model, s, ns.seconds)
    if "memory" in parts:
        results.update(memory.run(model))
        print(memory.line(results), flush=True)
    if "uplink" in parts:
        results["uplink"] = uplink.run(model, ns.seconds)
        _say(uplink.lines(results["uplink"]))
    if "gates" in parts:
        results["gates"] = gates.run(min(ns.seconds, 10.0))
        _say(gates.lines(results["gates"]))
    results["bench_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["elapsed_s"] = time.monotonic() - started
    print(f"bench process peak RSS {results['bench_peak_rss_mib']:.1f} MiB; took {results['elapsed_s']:.0f} s")
    targets = [report.TARGETS[p] for p in ("overhead", "overload", "lanes", "memory") if p in parts]
    extra = [uplink.TARGET] if "uplink" in parts else []
    extra += [gates.TARGET] if "gates" in parts else []
    print("targets: " + "; ".join(targets + extra))
    report.write_json(results, ns.out / "bench.json")
    plotted = report.plot(results, ns.out / "latency.png")
    print(f"wrote {ns.out / 'bench.json'}" + (f" and {ns.out / 'latency.png'}" if plotted else ""))
    return 0


def _overload(results: dict[str, Any], model: BenchModel, s: float, seconds: float) -> None:
    """FIFO, priority, priority without `anticipate`, and the bare loop's floor."""
    results["fifo"] = overload.run_case(model, s, seconds, "fifo")
    _say(report.overload_lines("overload", results["fifo"]))
    results["priority"] = overload.run_case(model, s, seconds, "priority")
    _say(report.overload_lines("overload", results["priority"]))
    unanticipated = overload.run_case(model, s, seconds, "priority", anticipate=False)
    results["priority_not_anticipated"] = unanticipated  # the same, no lane kept free for high's next frame
    _say(report.overload_lines("overload", unanticipated))
    _compare("anticipate", results["priority"], unanticipated)
    _floor(results, "priority", model, seconds, lanes=1)


def _lanes(results: dict[str, Any], model: BenchModel, s: float, seconds: float) -> None:
    """Two lanes, one reserved for high, with `reserved_alone` on and off, and the bare loops' floors."""
    results["lanes"] = overload.run_case(model, s, seconds, "priority", lanes=2, reserve=True)
    _say(report.overload_lines("lanes", results["lanes"]))
    beside = overload.run_case(model, s, seconds, "priority", lanes=2, reserve=True, reserved_alone=False)
    results["lanes_not_alone"] = beside  # the same, lower classes running beside the reserved lane
    _say(report.overload_lines("lanes", beside))
    _compare("reserved_alone", results["lanes"], beside)
    _floor(results, "lanes", model, seconds, lanes=2)
    _floor(results, "lanes", model, seconds, lanes=2, low=False)


def _compare(option: str, on: dict[str, Any], off: dict[str, Any]) -> None:
    """One line: the high class's p99 and the low class's share with the accelerator's `option` on and off."""
    high_on, high_off = on["classes"]["high"]["p99_S"], off["classes"]["high"]["p99_S"]
    print(f"  {option}: high p99 {high_on:.2f} S vs {high_off:.2f} S without it"
          f" (x{high_on / high_off if high_off else 0:.2f}); low got {100 * on['low_share_of_left']:.1f}%"
          f" vs {100 * off['low_share_of_left']:.1f}% of the capacity high leaves", flush=True)  # fmt: skip


def _run_gates(ns: argparse.Namespace) -> int:
    results = gates.run(min(ns.seconds, 10.0))
    _say(gates.lines(results))
    print("targets: " + gates.TARGET)
    report.write_json({"gates": results}, ns.out / "bench-gates.json")
    print(f"wrote {ns.out / 'bench-gates.json'}")
    return 0


def _floor(
    results: dict[str, Any], case: str, model: BenchModel, seconds: float, *, lanes: int, low: bool = True
) -> None:
    """The same arrivals on bare loops, right after the case, and the case's high p99 against it."""
    figures = results[case]
    key = "floor" if low else "floor_alone"
    figures[key] = floor.run(model, figures["service_time_ms"] / 1e3, seconds, lanes=lanes, low=low)
    print(floor.line(figures[key], figures["classes"]["high"]["p99_S"]), flush=True)


def _say(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)
