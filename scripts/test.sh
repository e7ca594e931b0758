#!/usr/bin/env bash
# Quick start, part 2: set everything up (venv, the Debian packages the real-window tests use,
# and .venvs/bpy-* for the headless version matrix) and run the whole test suite.  Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --system --matrix
exec .venv/bin/python -m pytest "$@"
