"""Gates and cascades: what the motion gate saves, what it costs, and what a cascade adds to latency.

* The motion gate: a video made from real photos (`edge_runtime.gates.clip`: still about 80% of the time,
  panning stretches) through MediaPipe's person detector, with and without the gate: accelerator invokes,
  panning stretches with a person that gave a detection, the gate's cost per frame next to one invoke.
* A cascade: BlazeFace then face landmarks on each face (astronaut), capture-to-result p50/p99 next to
  BlazeFace alone.
Both run the real runtime from a config built in memory, with the models `edge-runtime models fetch` brings.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import cv2
import yaml

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.gates.clip import Clip, photo, write_clip
from edge_runtime.inference.fetch import model_entries
from edge_runtime.sinks import MemorySink
from edge_runtime.stats import StreamStats

TARGET = "gates: >= 75% fewer invokes with the motion gate, every panning stretch with a person detected"
CLIP_FPS = 25.0  # the file source's pace: below the person detector's capacity, so no frame is superseded


def run(seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="edge-bench-gates-") as tmp:
        root = Path(tmp)
        models = yaml.safe_dump({"models": model_entries()}, default_flow_style=None)
        clip = write_clip(root / "clip.mp4", rounds=2)
        off = _run_clip(root, models, clip, gate=False)
        on = _run_clip(root, models, clip, gate=True)
        cv2.imwrite(str(root / "astronaut.bmp"), photo("astronaut"))
        alone = _run_faces(root, models, seconds, cascade=False)
        cascade = _run_faces(root, models, seconds, cascade=True)
    return {
        "clip": {"frames": clip.frames, "moving": clip.moving, "fps": CLIP_FPS},
        "without_gate": off,
        "with_gate": on,
        "invokes_saved": 1 - on["invokes"] / max(1, off["invokes"]),
        "detector_alone": alone,
        "cascade": cascade,
    }


def _run_clip(root: Path, models: str, clip: Clip, *, gate: bool) -> dict[str, Any]:
    motion = "{type: motion}, " if gate else ""
    stream = f"""\
    source: {{type: video, path: {clip.path}, realtime: false, fps: {CLIP_FPS}}}
    pipeline: [{motion}{{type: infer, model: person}}]"""
    stats, envelopes = _run(root, models, stream, duration=clip.frames / CLIP_FPS + 30)
    found = {e["frame"] for e in envelopes if e["payload"]["detections"]}
    with_people = [m for m, person in zip(clip.moving, clip.people, strict=True) if person]
    detected = sum(1 for start, end in with_people if found & set(range(start, end)))
    return {
        "offered": stats.offered,
        "invokes": stats.completed + sum(v for k, v in stats.drops.snapshot().items() if k == "error"),
        "gated": stats.gated,
        "drops": stats.drops.snapshot(),
        "stretches_with_person": len(with_people),
        "stretches_detected": detected,
        "gate_us": {k.replace("_ms", "_us"): v * 1e3 for k, v in stats.gate_cost.quantiles().items()},
        "invoke_us": {k.replace("_ms", "_us"): v * 1e3 for k, v in stats.service.quantiles().items()},
    }


def _run_faces(root: Path, models: str, seconds: float, *, cascade: bool) -> dict[str, Any]:
    marks = ", {type: infer, model: face_landmarks, on: {labels: [face]}}" if cascade else ""
    stream = f"""\
    source: {{type: images, path: {root / "astronaut.bmp"}, fps: 20, loop: true, realtime: true}}
    priority: high
    deadline_ms: 500
    pipeline: [{{type: infer, model: faces}}{marks}]"""
    stats, _ = _run(root, models, stream, duration=seconds)
    return {"results": stats.completed, "latency": stats.latency.quantiles(), "crops": stats.snapshot().get("crops")}


def _run(root: Path, models: str, stream: str, duration: float) -> tuple[StreamStats, list[dict[str, Any]]]:
    cfg = root / "bench.yaml"
    cfg.write_text(
        f"""\
device: {{id: bench}}
accelerator: {{threads: 1}}
{models}
streams:
  s:
{stream}
    sinks: [mem]
sinks:
  mem: {{type: memory, capacity: 1000000}}
status: {{display: off}}
"""
    )
    runtime, _service = build_runtime(load_config(cfg), root, display="off")
    memory = next(s for s in runtime.sinks if isinstance(s, MemorySink))
    asyncio.run(runtime.run(duration=duration))
    return runtime.streams[0].runner.stats, [dict(e) for e in memory.envelopes]


def lines(r: dict[str, Any]) -> list[str]:
    off, on = r["without_gate"], r["with_gate"]
    alone, cascade = r["detector_alone"]["latency"], r["cascade"]["latency"]
    return [
        f"gates: clip of {r['clip']['frames']} frames from photos ({len(r['clip']['moving'])} panning stretches)",
        f"  invokes: {off['invokes']} without the motion gate, {on['invokes']} with it "
        f"({r['invokes_saved']:.0%} fewer); gated {on['gated']}",
        f"  panning stretches with a person detected (gate on): {on['stretches_detected']}"
        f" of {on['stretches_with_person']}",
        f"  gate cost per frame p50 {on['gate_us']['p50_us']:.0f} µs, p99 {on['gate_us']['p99_us']:.0f} µs; "
        f"one invoke p50 {on['invoke_us']['p50_us']:.0f} µs",
        f"  capture to result: detector alone p50 {alone['p50_ms']:.1f} ms p99 {alone['p99_ms']:.1f} ms; "
        f"with the landmarks cascade p50 {cascade['p50_ms']:.1f} ms p99 {cascade['p99_ms']:.1f} ms",
    ]
