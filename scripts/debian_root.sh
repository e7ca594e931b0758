#!/usr/bin/env bash
# A Debian root (debootstrap) per profile, kept across runs, and commands run inside it.
#
#   scripts/debian_root.sh build PROFILE     build it, or reuse it if up to date; prints its path
#   scripts/debian_root.sh path PROFILE      prints its path (built or not)
#   scripts/debian_root.sh run PROFILE [--bind DIR]... -- COMMAND [ARG]...
#   scripts/debian_root.sh remove PROFILE    deletes it (refused while anything is mounted in it
#                                            or a command runs in it)
#
# Profiles (see profile() below):
#   trixie  Debian 13, python3.13 with venv, and the X11/GL libraries `import bpy` needs.
#   sid     Debian unstable with blender, xvfb, xauth, python3-requests, python3-numpy,
#           python3-cattr (numpy for the glTF importer, cattrs for a clean start).
#
# Where: ${ARK3D_ROOTS:-${XDG_CACHE_HOME:-$HOME/.cache}/ark3d/roots}/PROFILE, so a second run
# costs nothing.  The mirror is the one this machine's apt sources name (ARK3D_DEBIAN_MIRROR
# overrides it).  The host's extra CA certificates (/usr/local/share/ca-certificates) are
# installed in the root at every `build`, so pip and apt inside verify TLS as the host does.
# Every root also has /etc/mtab -> /proc/self/mounts and Acquire::Check-Valid-Until "false"
# (the mirror's snapshot of sid can be past its Valid-Until date).
# `build` is idempotent: a stamp in the root records the profile it was made from, a changed
# profile is built anew beside the old root and swapped in.  It holds an exclusive lock
# (PROFILE.lock); `run` holds a shared one for as long as its command lives, so a root is never
# rebuilt or removed under a running command.
#
# `run` executes COMMAND in the root, in the current folder, with the environment as it is but
# PATH set to the root's.  It binds /proc, /dev, /sys, the temp folder (/tmp and $TMPDIR), the
# current folder, every --bind DIR and every folder in ARK3D_ROOT_BINDS (':'-separated) at the
# same paths inside.  Mounts are made in a mount namespace of the command's own (unshare -m,
# private propagation): the host never sees them, concurrent runs do not share them, and they
# vanish when the command exits however it exits (even SIGKILL) - there is nothing to unmount
# and no trap that could be skipped.  `run` execs all the way down: the process a caller
# starts is, in the end, COMMAND itself (signals and exit status are COMMAND's).
#
# Needs root, debootstrap (installed with apt-get if missing) and util-linux's unshare.
# Works on Debian 12 and 13 hosts.
set -euo pipefail

ROOTS=${ARK3D_ROOTS:-${XDG_CACHE_HOME:-$HOME/.cache}/ark3d/roots}
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Bump when the way a root is made changes, so existing roots are rebuilt.
RECIPE=1

die() { echo "debian_root.sh: $*" >&2; exit 1; }

# profile NAME: sets SUITE, INCLUDE (for debootstrap) and PACKAGES (apt-get install after).
profile() {
  case "$1" in
    trixie)
      SUITE=trixie
      INCLUDE=python3,python3-venv,ca-certificates,libx11-6,libxrender1,libxfixes3,libxi6,libxkbcommon0,libsm6,libice6,libxext6,libgl1
      PACKAGES=""
      ;;
    sid)
      SUITE=sid
      INCLUDE=ca-certificates
      PACKAGES="blender xvfb xauth python3-requests python3-numpy python3-cattr"
      ;;
    *) die "unknown profile '$1' (trixie, sid)" ;;
  esac
}

# The Debian mirror this machine's apt sources name (the first non-security one).
mirror() {
  if [ -n "${ARK3D_DEBIAN_MIRROR:-}" ]; then echo "$ARK3D_DEBIAN_MIRROR"; return; fi
  local found=""
  shopt -s nullglob
  local sources=(/etc/apt/sources.list.d/*.sources)
  local lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  shopt -u nullglob
  if [ ${#sources[@]} -gt 0 ]; then
    found=$(awk 'BEGIN { RS = ""; FS = "\n" }
      { uris = ""; suites = ""; types = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) uris = substr($i, 6)
          if ($i ~ /^Suites:/) suites = substr($i, 8)
          if ($i ~ /^Types:/) types = substr($i, 7)
        }
        if (types ~ /(^| )deb( |$)/ && suites !~ /security/ && uris !~ /security/) {
          split(uris, u, " "); if (u[1] != "") { print u[1]; exit }
        } }' "${sources[@]}")
  fi
  if [ -z "$found" ]; then
    for f in "${lists[@]}"; do
      [ -r "$f" ] || continue
      found=$(sed -E -n 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\2 \3/p' "$f" \
        | awk '$1 !~ /security/ && $2 !~ /security/ { print $1; exit }')
      [ -n "$found" ] && break
    done
  fi
  echo "${found:-http://deb.debian.org/debian}"
}

# The stamp a root made from this profile carries.
spec() {
  printf 'recipe=%s\nsuite=%s\ninclude=%s\npackages=%s\nmirror=%s\n' \
    "$RECIPE" "$SUITE" "$INCLUDE" "$PACKAGES" "$(mirror)"
}

# Mount points at or under $1 in this mount namespace (the host's, for build and remove).
mounts_under() {
  local dir
  dir=$(realpath -m "$1")
  awk -v d="$dir" '{ gsub(/\\040/, " ", $2); if ($2 == d || index($2, d "/") == 1) print $2 }' /proc/mounts
}

# Deletes a root, or refuses: never with anything mounted inside (a bound /tmp would go too).
safe_remove() {
  local dir=$1 held
  [ -e "$dir" ] || return 0
  held=$(mounts_under "$dir")
  [ -z "$held" ] || die "refusing to delete $dir: mounted inside it: $held"
  rm -rf --one-file-system -- "$dir"
}

# in_root DIR COMMAND...: COMMAND in DIR, in a mount namespace of its own (used while building).
in_root() {
  local dir=$1; shift
  unshare -m --propagation private -- /bin/sh -ec '
    dir=$1; shift
    mount --rbind /dev "$dir/dev"
    mount --rbind /proc "$dir/proc"
    mount --rbind /sys "$dir/sys"
    exec chroot "$dir" /usr/bin/env -i PATH="$0" HOME=/root DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
  ' "$ROOT_PATH" "$dir" "$@"
}

# Copies the host's extra CA certificates in, when they differ from the root's.
install_certificates() {
  local dir=$1 src=/usr/local/share/ca-certificates dst=$1/usr/local/share/ca-certificates
  [ -d "$src" ] || return 0
  if ! diff -rq "$src" "$dst" >/dev/null 2>&1; then
    rm -rf -- "$dst"
    mkdir -p "$dst"
    cp -rL "$src/." "$dst/"
    in_root "$dir" update-ca-certificates >"$dir.certificates.log" 2>&1 \
      || { cat "$dir.certificates.log" >&2; die "update-ca-certificates failed in $dir"; }
    rm -f "$dir.certificates.log"
  fi
}

need_host_tools() {
  [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mounts)"
  command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is missing"
  unshare -m --propagation private true 2>/dev/null \
    || die "cannot make a private mount namespace (unshare -m); inside a chroot, / must be a mount point"
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "Installing debootstrap" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
}

build() {
  local name=$1 root new started lock
  profile "$name"
  need_host_tools
  root=$ROOTS/$name new=$ROOTS/$name.new
  mkdir -p "$ROOTS"
  exec {lock}>"$ROOTS/$name.lock"
  if ! flock -n "$lock"; then
    echo "Waiting for the lock on the $name root (another build or run is using it)" >&2
    flock "$lock"
  fi
  if [ -f "$root/.ark3d-root" ] && [ "$(cat "$root/.ark3d-root")" = "$(spec)" ]; then
    install_certificates "$root"
    echo "$root"
    return
  fi
  started=$(date +%s)
  echo "Building the Debian $SUITE root in $root from $(mirror)" >&2
  safe_remove "$new"
  mkdir -p "$new"
  unshare -m --propagation private -- \
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$new" "$(mirror)" >"$ROOTS/$name.log" 2>&1 \
    || die "debootstrap failed: see $ROOTS/$name.log"
  ln -sfn /proc/self/mounts "$new/etc/mtab"
  # The mirror's snapshots can be past their Valid-Until date (sid's is, at times).
  echo 'Acquire::Check-Valid-Until "false";' >"$new/etc/apt/apt.conf.d/99ark3d-valid-until"
  cp -L /etc/resolv.conf "$new/etc/resolv.conf" 2>/dev/null || true
  install_certificates "$new"
  if [ -n "$PACKAGES" ]; then
    # shellcheck disable=SC2086 - a list of package names
    { in_root "$new" apt-get update -qq &&
      in_root "$new" apt-get install -y -qq --no-install-recommends $PACKAGES &&
      in_root "$new" apt-get clean; } >>"$ROOTS/$name.log" 2>&1 \
      || die "installing $PACKAGES failed: see $ROOTS/$name.log"
  fi
  spec >"$new/.ark3d-root"
  safe_remove "$root"
  mv "$new" "$root"
  echo "Built the $name root in $(( $(date +%s) - started )) s ($(du -sm "$root" | cut -f1) MB)" >&2
  echo "$root"
}

run() {
  local name=$1 root binds=() dir lock
  shift
  profile "$name"
  root=$ROOTS/$name
  while [ $# -gt 0 ]; do
    case "$1" in
      --bind) [ $# -ge 2 ] || die "--bind needs a folder"; binds+=("$2"); shift 2 ;;
      --) shift; break ;;
      *) die "usage: run PROFILE [--bind DIR]... -- COMMAND [ARG]..." ;;
    esac
  done
  [ $# -gt 0 ] || die "run: no command"
  [ -f "$root/.ark3d-root" ] || die "no $name root in $root: run scripts/debian_root.sh build $name"
  binds+=(/tmp "${TMPDIR:-/tmp}" "$PWD")
  if [ -n "${ARK3D_ROOT_BINDS:-}" ]; then
    IFS=: read -r -a extra <<<"$ARK3D_ROOT_BINDS"
    binds+=("${extra[@]}")
  fi
  # Absolute, existing, each once (realpath: a symlinked folder is bound where it points, and
  # also reachable by its own name when its parent is bound).
  local paths=() seen=" "
  for dir in "${binds[@]}"; do
    [ -d "$dir" ] || continue
    dir=$(realpath "$dir")
    [ "$dir" != / ] || die "refusing to bind / over the root"
    case "$seen" in *" $dir "*) continue ;; esac
    seen+="$dir "
    paths+=("$dir")
  done
  # The shared lock lives on a free descriptor (never one the caller passed, such as a pipe)
  # inherited through every exec by COMMAND itself.
  exec {lock}>"$ROOTS/$name.lock"
  flock -s "$lock"
  exec unshare -m --propagation private -- /bin/sh -ec '
    root=$1 path=$2 cwd=$3; shift 3
    mount --rbind /dev "$root/dev"
    mount --rbind /proc "$root/proc"
    mount --rbind /sys "$root/sys"
    while [ "$1" != -- ]; do
      mkdir -p "$root$1"
      mount --rbind "$1" "$root$1"
      shift
    done
    shift
    exec chroot "$root" /usr/bin/env PATH="$path" /bin/sh -c '\''cd "$0" && exec "$@"'\'' "$cwd" "$@"
  ' run "$root" "$ROOT_PATH" "$PWD" "${paths[@]}" -- "$@"
}

remove() {
  local name=$1 root lock
  profile "$name"
  root=$ROOTS/$name
  mkdir -p "$ROOTS"
  exec {lock}>"$ROOTS/$name.lock"
  flock -n "$lock" || die "the $name root is in use (a build or run holds $ROOTS/$name.lock)"
  safe_remove "$root.new"
  safe_remove "$root"
}

[ $# -ge 2 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
command=$1 name=$2
shift 2
case "$command" in
  build) [ $# -eq 0 ] || die "build takes only a profile"; build "$name" ;;
  path) profile "$name"; echo "$ROOTS/$name" ;;
  run) run "$name" "$@" ;;
  remove) remove "$name" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
