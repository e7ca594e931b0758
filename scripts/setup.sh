#!/usr/bin/env bash
# Set up everything the demo and the tests need, idempotently.
#   scripts/setup.sh            # .venv with bpy, requests, pytest, fake-bpy-module, ... (requirements-dev.txt)
#   scripts/setup.sh --system   # also Debian packages for the real-window tests (blender, xvfb)
#   scripts/setup.sh --matrix   # also .venvs/bpy-<version>: one venv per requirements-bpy-<version>.txt
#                               # (that bpy wheel and the modules that Blender bundles), the other
#                               # Blenders tests/blender runs on; wheels kept in ~/.cache/ark3d/wheels
# The options combine (scripts/test.sh passes both).  Re-running is cheap: a stamp file per
# venv records the requirements it was installed from, and pip runs only when they changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" - <<'PY' || { echo "Python 3.11 is required (the bpy wheels are built for it)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)
PY

system=false matrix=false
for arg in "$@"; do
  case "$arg" in
    --system) system=true ;;
    --matrix) matrix=true ;;
    *) echo "usage: scripts/setup.sh [--system] [--matrix]" >&2; exit 2 ;;
  esac
done

if $system; then
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

if $matrix; then
  # The big bpy wheels are kept in a wheelhouse outside the work tree (pip's own HTTP cache
  # keeps nothing when the index answers without caching headers), so a new venv, a fresh
  # clone or CI on the same machine installs them offline.
  wheels=${ARK3D_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/ark3d/wheels}
  mkdir -p "$wheels"
  for req in requirements-bpy-*.txt; do
    [ -e "$req" ] || continue
    version=${req#requirements-bpy-}; version=${version%.txt}
    venv=.venvs/bpy-$version
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
    stamp=$venv/.$req
    if ! cmp -s "$req" "$stamp"; then
      echo "Installing $(grep -o '^bpy==[^ ]*' "$req") and the modules that Blender bundles into $venv"
      if ! "$venv/bin/python" -m pip install -q --no-index --find-links "$wheels" -r "$req" 2>/dev/null; then
        "$venv/bin/python" -m pip download -q -d "$wheels" -r "$req"
        "$venv/bin/python" -m pip install -q --no-index --find-links "$wheels" -r "$req"
      fi
      cp "$req" "$stamp"
    fi
    "$venv/bin/python" -c "import bpy; print('ready: Blender', bpy.app.version_string, '(bpy module) in $venv')"
  done
fi
