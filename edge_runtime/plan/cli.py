"""`edge-runtime plan FILE`: measure the config's models on this device and print whether its streams fit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edge_runtime.config import load_config
from edge_runtime.plan._measure import DEFAULT_CACHE, service_times
from edge_runtime.plan._predict import predict
from edge_runtime.plan._report import as_json, lines

USER_ERROR = 2


def add_plan_command(sub: Any) -> None:
    plan = sub.add_parser("plan", help="will the config's streams fit this device? exit 0 fits, 1 not")
    plan.add_argument("file", type=Path, help="the device config (YAML)")
    plan.add_argument("--fresh", action="store_true", help="measure the models again instead of using the cache")
    plan.add_argument("--seconds", type=float, default=1.0, help="measuring time per model (s)")
    plan.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where measured service times are kept")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument(
        "--runs", action="append", default=[], metavar="MODEL=N",
        help="a model runs N times per frame (a cascade's second stage: the expected crops per frame)",
    )  # fmt: skip
    plan.set_defaults(handler=run_plan)


def run_plan(ns: argparse.Namespace) -> int:
    from edge_runtime.inference import ModelError

    config = load_config(ns.file)
    runs = _runs(ns.runs, set(config.models))
    if isinstance(runs, str):
        print(f"--runs: {runs}", file=sys.stderr)
        return USER_ERROR
    try:
        times = service_times(config, ns.file.parent, ns.cache, fresh=ns.fresh, seconds=ns.seconds)
    except ModelError as exc:
        print(f"{ns.file}: {exc}", file=sys.stderr)
        return USER_ERROR
    plan = predict(config, times, runs)
    if ns.json:
        print(json.dumps(as_json(plan), indent=2))
    else:
        print("\n".join(lines(plan)))
    return 0 if plan.fits else 1


def _runs(values: list[str], models: set[str]) -> dict[str, float] | str:
    """`MODEL=N` pairs, or the one-line problem."""
    runs: dict[str, float] = {}
    for value in values:
        model, _, count = value.partition("=")
        if model not in models:
            return f"{value!r}: no model {model!r} in the config"
        try:
            runs[model] = float(count)
        except ValueError:
            return f"{value!r}: N must be a number"
        if not 0 <= runs[model] <= 1000:
            return f"{value!r}: N must be between 0 and 1000"
    return runs
