#!/usr/bin/env bash
# Proves that the README's set-up commands work on a new user's machine: a
# pristine Debian 12 root (mmdebstrap --variant=minbase bookworm) with nothing
# in it but what scripts/install_deps.sh installs.
#
# Usage: scripts/fresh_machine_check.sh        (as root; CI runs it from .ci/run)
#
# Inside the root (chroot, with /proc, /sys and /dev/shm mounted) it runs, from
# a clone of the committed tree (HEAD; uncommitted changes are not seen):
#   1. the README's main command on a short event: scripts/main.sh --event mlp
#   2. the README's test command's install, configure and build steps:
#      scripts/test.sh --build-only (the tests themselves run outside, in CI)
# A package this machine has but install_deps.sh does not install fails here.
#
# Environment:
#   FRESH_MIRROR     Debian mirror (default http://deb.debian.org/debian; the
#                    security suite comes from its debian-security twin)
#   FRESH_CACHE_DIR  where the base root's tarball is kept between runs
#                    (default /var/cache/tinyopt/fresh-root); it is rebuilt
#                    when older than FRESH_CACHE_DAYS (default 7)
#   FRESH_LOG_DIR    where each step's log and the timings go
#                    (default build-fresh/ in the checkout)
#   FRESH_WORK_PARENT where the root is built (default /var/tmp)
#
# Every exit path, Ctrl-C included, unmounts what it mounted and removes the
# root; a run killed outright (SIGKILL) is cleaned up by the next one.
set -euo pipefail
root_dir=$(cd "$(dirname "$0")/.." && pwd)
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
cache=${FRESH_CACHE_DIR:-/var/cache/tinyopt/fresh-root}
cache_days=${FRESH_CACHE_DAYS:-7}
logs=${FRESH_LOG_DIR:-$root_dir/build-fresh}
work_prefix=${FRESH_WORK_PARENT:-/var/tmp}/tinyopt-fresh.

fail() { echo "fresh_machine_check: $*" >&2; exit 1; }

# ---- what the check needs, each named when it is missing ---------------------
[[ $(id -u) -eq 0 ]] || fail "must run as root (it builds a Debian root with mmdebstrap, mounts /proc in it and chroots); try: sudo $0"
command -v mmdebstrap >/dev/null || fail "mmdebstrap is not installed; install it with: apt-get install mmdebstrap (scripts/install_deps.sh --tests does)"
command -v git >/dev/null || fail "git is not installed; it clones the committed tree into the root"
git -C "$root_dir" rev-parse --verify -q HEAD >/dev/null || fail "$root_dir is not a git checkout with a commit; the check builds the committed tree"

# ---- cleanup: unmount everything under a root, then remove it ---------------
mounts_under() {  # mount points below $1, deepest first
  awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r
}
remove_work_dir() {
  local dir=$1 m
  for m in $(mounts_under "$dir"); do
    umount "$m" 2>/dev/null || umount --lazy "$m" || true
  done
  if [[ -n $(mounts_under "$dir") ]]; then
    echo "fresh_machine_check: could not unmount everything under $dir; left it in place" >&2
    return 1
  fi
  # --one-file-system: never follow into anything still mounted.
  rm -rf --one-file-system "$dir"
}
# One check at a time per work folder: the next step removes roots it finds there.
exec 9>"${work_prefix}lock"
flock --nonblock 9 || fail "another fresh_machine_check is running (it holds ${work_prefix}lock)"
for stale in "$work_prefix"*; do  # left by a run that was killed outright
  [[ -d $stale ]] && remove_work_dir "$stale"
done

reach_error=$(python3 - "$mirror/dists/bookworm/InRelease" 2>&1 <<'EOF'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=20).read(1)
except Exception as e:
    print(e); sys.exit(1)
EOF
) || fail "cannot reach the Debian mirror $mirror ($reach_error); the check downloads Debian 12 from it (set FRESH_MIRROR to use another)"

work=$(mktemp -d "${work_prefix}XXXXXX")
trap 'remove_work_dir "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
root=$work/root
mkdir -p "$root" "$logs" "$cache"
rm -f "$logs"/*.log
timings=$logs/timings.tsv
printf "step\tseconds\tresult\n" >"$timings"

# run_step NAME COMMAND...: runs it with its output in $logs/NAME.log, records the time.
run_step() {
  local name=$1 start rc
  shift
  echo "== $name =="
  start=$(date +%s)
  set +e
  "$@" >"$logs/$name.log" 2>&1
  rc=$?
  set -e
  local seconds=$(($(date +%s) - start))
  printf "%s\t%s\t%s\n" "$name" "$seconds" "$([[ $rc -eq 0 ]] && echo ok || echo "FAILED (exit $rc)")" | tee -a "$timings"
  if ((rc != 0)); then
    echo "---- last 60 lines of $logs/$name.log ----" >&2
    tail -n 60 "$logs/$name.log" >&2
    fail "step '$name' failed on a pristine Debian 12 root (exit $rc); its log is $logs/$name.log"
  fi
}

# ---- the pristine root: cached as a tarball, unpacked fresh each run ---------
base=$cache/bookworm-minbase.tar
build_base() {
  local security=http://deb.debian.org/debian-security
  [[ $mirror == */debian ]] && security=${mirror%/debian}/debian-security
  mmdebstrap --variant=minbase --format=tar --quiet bookworm "$base.tmp" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main"
  mv "$base.tmp" "$base"  # only a complete tarball is ever cached
}
if [[ ! -s $base ]] || [[ -n $(find "$base" -mtime +"$cache_days" 2>/dev/null) ]]; then
  rm -rf "$base.tmp"
  run_step mmdebstrap build_base
fi
run_step unpack tar -C "$root" -xf "$base"

commit=$(git -C "$root_dir" rev-parse --short=12 HEAD)
run_step clone git clone --quiet --no-hardlinks "$root_dir" "$root/root/tinyopt"
echo "fresh_machine_check: testing commit $commit on a pristine Debian 12 (minbase) root"

mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"  # CPU topology and caches, as on a real machine
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"

# in_root COMMAND: runs a shell command in the root as a new root login would.
in_root() {
  env -i HOME=/root LANG=C.UTF-8 TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    chroot "$root" /bin/bash -c "cd /root/tinyopt && $1"
}
run_step main in_root "scripts/main.sh --event mlp"
run_step test-build in_root "scripts/test.sh --build-only"

echo "fresh_machine_check: passed: the README's commands work on a pristine Debian 12 root (commit $commit); timings in $timings"
