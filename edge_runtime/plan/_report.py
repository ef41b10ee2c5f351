"""The plan as a table (one row per stream, then per lane), what would fix it, and as JSON for tools."""

from __future__ import annotations

import math
from typing import Any

from edge_runtime.plan._predict import ASSUMED_FPS, Plan, StreamPlan


def _ms(seconds: float) -> str:
    return "unbounded" if math.isinf(seconds) else f"{seconds * 1e3:.1f}"


def lines(plan: Plan) -> list[str]:
    rows = [
        f"policy {plan.policy}, {len(plan.lanes)} lane(s); times in ms (service: median / p99 per frame)",
        f"{'stream':<16} {'class':<8} {'fps':>6} {'models':<20} {'service':>13} {'share':>6} {'wait':>10}"
        f" {'deadline':>9}  verdict",
    ]
    for s in plan.streams:
        fps = f"{s.fps:g}" + ("?" if s.fps_assumed else "")
        rows.append(
            f"{s.stream:<16} {s.priority:<8} {fps:>6} {'+'.join(s.models):<20}"
            f" {s.service_s * 1e3:>6.2f}/{s.p99_s * 1e3:<6.2f} {s.share:>6.2f} {_ms(s.wait_s):>10}"
            f" {s.deadline_s * 1e3:>9.1f}  {verdict(s)}"
        )
    rows += [f"lane {i} (takes {takes}): utilisation {load:.0%}" for i, (takes, load) in enumerate(plan.lanes)]
    if any(s.fps_assumed for s in plan.streams):
        rows.append(f"fps?: the source sets no fps: {ASSUMED_FPS:g} assumed")
    rows.append("fits: every deadline holds" if plan.fits else "does not fit:")
    rows += [f"  {line}" for line in fixes(plan)]
    return rows


def verdict(s: StreamPlan) -> str:
    if s.served_fraction < 1.0:
        shed = s.fps * (1.0 - s.served_fraction)
        return f"SHED {shed:.1f} of {s.fps:g} fps ({1.0 - s.served_fraction:.0%})"
    if s.wait_s + s.p99_s > s.deadline_s:
        return f"LATE: wait {_ms(s.wait_s)} + service p99 {s.p99_s * 1e3:.1f} ms > budget {s.deadline_s * 1e3:.1f} ms"
    return "ok"


def fixes(plan: Plan) -> list[str]:
    """One line per stream that does not fit: what it loses, and what would make it fit."""
    out = []
    for s in plan.streams:
        if s.fits:
            continue
        if s.served_fraction < 1.0:
            keep = s.fps * s.served_fraction
            out.append(
                f"stream {s.stream!r} ({s.priority}) will be shed: {verdict(s)};"
                f" fix: at most {keep:.1f} fps, or another lane, or a reserve/higher class for it"
            )
        else:
            out.append(
                f"stream {s.stream!r} ({s.priority}): {verdict(s)};"
                " fix: a longer deadline_ms, fewer fps above it, another lane, or a reserve for its class"
            )
    return out


def as_json(plan: Plan) -> dict[str, Any]:
    def num(seconds: float) -> float | None:
        return None if math.isinf(seconds) else round(seconds * 1e3, 3)

    return {
        "fits": plan.fits,
        "policy": plan.policy,
        "streams": [
            {
                "stream": s.stream,
                "priority": s.priority,
                "fps": s.fps,
                "fps_assumed": s.fps_assumed,
                "models": list(s.models),
                "service_ms": num(s.service_s),
                "service_p99_ms": num(s.p99_s),
                "share": round(s.share, 4),
                "wait_ms": num(s.wait_s),
                "served_wait_ms": num(s.served_wait_s),
                "deadline_ms": num(s.deadline_s),
                "served_fraction": round(s.served_fraction, 4),
                "fits": s.fits,
                "verdict": verdict(s),
            }
            for s in plan.streams
        ],
        "lanes": [{"takes": takes, "utilisation": round(load, 4)} for takes, load in plan.lanes],
        "fixes": fixes(plan),
    }
