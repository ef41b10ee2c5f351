#!/usr/bin/env bash
# Set up (if needed) and run the demo: real images through the BlazeFace face detector, live on the console,
# results in var/demo/results.jsonl. Ctrl-C stops it; extra arguments go to edge-runtime (e.g. --duration 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python -m edge_runtime.demo var/demo/images
exec .venv/bin/edge-runtime --config configs/demo.yaml "$@"
