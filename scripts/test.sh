#!/usr/bin/env bash
# Run the tests.  Two tiers; extra arguments go to pytest in both (scripts/test.sh --quick -k cli -x).
#   scripts/test.sh --quick   the bpy-free core, the scenarios and the Blender tests on the one bpy in
#                             .venv: no root, no Debian root, no bpy matrix.  Needs only .venv
#                             (scripts/setup.sh, which scripts/demo.sh runs too); the window tests and
#                             the matrix's other Blenders are skipped, each with the reason.
#   scripts/test.sh           the full suite, as CI runs it: first scripts/setup.sh --system --matrix
#                             (root for the Debian packages, about 8 GB of bpy wheels and Debian roots,
#                             about 25 minutes the first time), then every test on every Blender.
#   scripts/test.sh --help    this text; sets nothing up, runs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# Python's bytecode cache stays on even where the environment turns it off: pytest keeps each
# test module's rewritten asserts there (__pycache__, ignored by git and by scripts/build.py);
# rewriting them all again costs about 5 s a run on 2 cores.
unset PYTHONDONTWRITEBYTECODE

case "${1:-}" in
  -h|--help)
    sed -n '2,10s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  --quick)
    shift
    scripts/setup.sh
    # tests/conftest.py and tests/blender/harness.py read the tier: what it leaves out is skipped, with why.
    ARK3D_TEST_TIER=quick exec .venv/bin/python -m pytest "$@"
    ;;
esac
scripts/setup.sh --system --matrix
exec .venv/bin/python -m pytest "$@"
