#!/usr/bin/env bash
# Set up everything the demo and the tests need, idempotently.
#   scripts/setup.sh            # .venv with bpy, requests, pytest, fake-bpy-module, ... (requirements-dev.txt)
#   scripts/setup.sh --system   # also Debian packages for the real-window tests (blender, xvfb), and
#                               # Blender 5.2 LTS for them in a Debian sid root (scripts/debian_root.sh)
#   scripts/setup.sh --matrix   # also .venvs/bpy-<version>: one venv per requirements-bpy-<version>.txt
#                               # (that bpy wheel and the modules that Blender bundles), the other
#                               # Blenders tests/blender runs on; wheels kept in ~/.cache/ark3d/wheels
# The options combine (scripts/test.sh passes both).  Re-running is cheap: a stamp file per
# venv records the requirements it was installed from, and pip runs only when they changed.
#
# A requirements file with a line "# root: PROFILE PYTHON" names a Python this machine may not
# have (bpy 5.1+ is built for Python 3.13; Debian 12 has 3.11): its venv is made by PYTHON of
# the Debian root PROFILE (scripts/debian_root.sh, built or reused here) and kept beside that
# root, in ~/.cache/ark3d/venvs/PROFILE/, named by the file's hash, so a fresh clone reuses it.
# .venvs/bpy-<version>/bin/python is then a small script that runs that venv's Python in the
# root, with this checkout, the temp folder and the current folder bound at the same paths.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" - <<'PY' || { echo "Python 3.11 is required (the bpy 4.2-5.0 wheels are built for it); Debian 13 has no
python3.11 package: put one on PATH (pyenv, say) or name it in PYTHON=" >&2; exit 1; }
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
  # Debian's Blender imports glTF with numpy, which its package does not pull in (Debian 12's
  # 3.4 nor 13's 4.3).
  /usr/bin/python3 -c "import numpy" 2>/dev/null || need+=(python3-numpy)
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  # The window tests' second Blender, Debian sid's 5.2 LTS, in a root of its own (about 100 s
  # and 1.3 GB once, then reused).  Sid moves: when its Blender cannot be installed, the window
  # tests on it are skipped with the reason kept in sid.failed beside the root, nothing fails.
  sid_failed=$(dirname "$(scripts/debian_root.sh path sid)")/sid.failed
  mkdir -p "$(dirname "$sid_failed")"
  if scripts/debian_root.sh build sid >/dev/null 2>"$sid_failed"; then
    rm -f "$sid_failed"
  else
    echo "Debian sid's Blender is not available; the window tests on it will be skipped:" >&2
    tail -n 3 "$sid_failed" >&2
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
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/ark3d
  wheels=${ARK3D_WHEELHOUSE:-$cache/wheels}
  mkdir -p "$wheels"
  built_roots=" "
  for req in requirements-bpy-*.txt; do
    [ -e "$req" ] || continue
    version=${req#requirements-bpy-}; version=${version%.txt}
    venv=.venvs/bpy-$version
    stamp=$venv/.$req
    read -r root root_python _ < <(sed -n 's/^# root: *//p' "$req"; echo) || true
    if [ -z "$root" ]; then
      [ -x "$venv/bin/python" ] && [ -e "$venv/pyvenv.cfg" ] || { rm -rf "$venv"; "$PYTHON" -m venv "$venv"; }
      if ! cmp -s "$req" "$stamp"; then
        echo "Installing $(grep -o '^bpy==[^ ]*' "$req") and the modules that Blender bundles into $venv"
        if ! "$venv/bin/python" -m pip install -q --no-index --find-links "$wheels" -r "$req" 2>/dev/null; then
          "$venv/bin/python" -m pip download -q -d "$wheels" -r "$req"
          "$venv/bin/python" -m pip install -q --no-index --find-links "$wheels" -r "$req"
        fi
        cp "$req" "$stamp"
      fi
    else
      case "$built_roots" in
        *" $root "*) ;;
        *) scripts/debian_root.sh build "$root" >/dev/null; built_roots+="$root " ;;
      esac
      roots=$(dirname "$(scripts/debian_root.sh path "$root")")
      target=$cache/venvs/$root/bpy-$version-$(sha256sum "$req" | cut -c1-12)
      mkdir -p "$target"
      in_root=(scripts/debian_root.sh run "$root" --bind "$wheels" --bind "$target" --)
      if ! cmp -s "$req" "$target/.$req"; then
        echo "Installing $(grep -o '^bpy==[^ ]*' "$req") and the modules that Blender bundles into $target (Debian $root, $root_python)"
        find "$target" -mindepth 1 -delete
        "${in_root[@]}" "$root_python" -m venv "$target"
        pip=("${in_root[@]}" env -u PIP_FIND_LINKS "$target/bin/python" -m pip)
        if ! "${pip[@]}" install -q --no-index --find-links "$wheels" -r "$req" 2>/dev/null; then
          "${pip[@]}" download -q -d "$wheels" -r "$req"
          "${pip[@]}" install -q --no-index --find-links "$wheels" -r "$req"
        fi
        cp "$req" "$target/.$req"
      fi
      if ! cmp -s "$req" "$stamp" || [ -e "$venv/pyvenv.cfg" ]; then
        rm -rf "$venv"
        mkdir -p "$venv/bin"
        cat >"$venv/bin/python" <<SH
#!/bin/sh
# $(grep -o '^bpy==[^ ]*' "$req") in $root_python of the Debian $root root, made by scripts/setup.sh --matrix from
# $req: runs $target/bin/python
# in that root (scripts/debian_root.sh run) with this checkout, the temp folder and the current
# folder at the same paths, so the caller uses it as any Python.
repo=\$(cd "\$(dirname "\$0")/../../.." && pwd)
export ARK3D_ROOTS='$roots'
exec "\$repo/scripts/debian_root.sh" run $root --bind "\$repo" --bind '$target' -- '$target/bin/python' "\$@"
SH
        chmod +x "$venv/bin/python"
        cp "$req" "$stamp"
      fi
    fi
    "$venv/bin/python" -c "import bpy, sys; print('ready: Blender', bpy.app.version_string, '(bpy module, Python %d.%d)' % sys.version_info[:2], 'in $venv')"
  done
fi
