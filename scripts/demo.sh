#!/usr/bin/env bash
# Quick start, part 1: set everything up, then run the demo (local Ark server -> Blender headless
# -> out/demo/demo.blend and out/demo/preview.png).  Extra arguments go to scripts/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
