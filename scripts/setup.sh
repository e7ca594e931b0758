#!/usr/bin/env bash
# Set up everything the demo and the tests need, idempotently.
#   scripts/setup.sh            # .venv with bpy, requests, pytest, fake-bpy-module, ... (requirements-dev.txt)
#   scripts/setup.sh --system   # also Debian packages for the real-window tests (blender, xvfb)
# Re-running is cheap: pip skips what is installed and reuses its wheel cache.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" - <<'PY' || { echo "Python 3.11 is required (the bpy wheels are built for it)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)
PY

if [ "${1:-}" = "--system" ]; then
  need=()
  command -v blender >/dev/null 2>&1 || need+=(blender)
  command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth)
  /usr/bin/python3 -c "import requests" 2>/dev/null || need+=(python3-requests)
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-dev.txt
if ! cmp -s requirements-dev.txt "$stamp"; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  cp requirements-dev.txt "$stamp"
fi
.venv/bin/python -c "import bpy, requests; print('ready: Blender', bpy.app.version_string, '(bpy module) in .venv')"
