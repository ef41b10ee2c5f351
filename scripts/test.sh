#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: ruff, mypy --strict, pytest (real mosquitto, ZeroMQ sockets,
# video servers and models). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy --strict"; .venv/bin/mypy edge_runtime cloud_sync tests
echo "== pytest"; .venv/bin/pytest -q -p no:cacheprovider "$@"
