#!/usr/bin/env bash
# Set up (if needed) and run the demo: real photos and a panning video through the BlazeFace face detector and a
# sensor stream with a window and an alert, live on the console and at http://127.0.0.1:8080/,
# results in var/demo/results.jsonl. Ctrl-C stops it; extra arguments go to edge-runtime (e.g. --duration 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python -m edge_runtime.demo var/demo/images
echo "demo: the live console is at http://127.0.0.1:${EDGE_HTTP_PORT:-8080}/ (metrics at /metrics); Ctrl-C stops"
exec .venv/bin/edge-runtime --config configs/demo.yaml "$@"
