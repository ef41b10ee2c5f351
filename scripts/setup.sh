#!/usr/bin/env bash
# Set up edge-runtime in ./.venv on a Debian / Raspberry Pi OS machine with Python >= 3.10.
#   scripts/setup.sh          the runtime and the demo (fetches the shipped face model)
#   scripts/setup.sh --test   also the test tools and the servers the tests start (mosquitto, ffmpeg, GStreamer,
#                             chromium, prometheus, PostgreSQL)
# Installs only what is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
mode=${1:-demo}

apt_missing=()
have() { command -v "$1" >/dev/null 2>&1; }
"$PYTHON" -c "import ensurepip, venv" 2>/dev/null || apt_missing+=(python3-venv)
if [ "$mode" = "--test" ]; then
  have mosquitto || [ -x /usr/sbin/mosquitto ] || apt_missing+=(mosquitto)
  have mosquitto_pub || apt_missing+=(mosquitto-clients)
  have ffmpeg || apt_missing+=(ffmpeg)
  have chromium || have chromium-browser || apt_missing+=(chromium)  # the console test drives it headless
  { have prometheus && have promtool; } || apt_missing+=(prometheus)  # the metrics tests scrape with it
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_missing+=(postgresql)  # the fleet tests run it
  if ! /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null; then
    apt_missing+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
  fi
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: as root, run: apt-get update && apt-get install -y ${apt_missing[*]}" >&2
      exit 2
    fi
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
extras="demo"
[ "$mode" = "--test" ] && extras="demo,dev"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages (.[$extras])"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi
.venv/bin/edge-runtime models fetch
