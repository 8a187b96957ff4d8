#!/usr/bin/env bash
# What scripts/fresh_machine_check.sh says when it cannot run, and that it
# leaves nothing behind: not root, no mmdebstrap, no mirror, and a root left
# mounted by a run that was killed outright. Each case stops in the preflight,
# long before a root is built. Exits 77 (skipped) for the cases that need root
# when not run as root.
set -uo pipefail
script=$(cd "$(dirname "$0")/../.." && pwd)/scripts/fresh_machine_check.sh
scratch=$(mktemp -d)
cleanup() {
  awk -v p="$scratch/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r umount 2>/dev/null
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
export FRESH_WORK_PARENT=$scratch/work FRESH_CACHE_DIR=$scratch/cache FRESH_LOG_DIR=$scratch/logs
mkdir -p "$FRESH_WORK_PARENT"
failures=0

# expect_failure NAME PATTERN COMMAND...: the command exits 1 and its stderr matches PATTERN.
expect_failure() {
  local name=$1 pattern=$2 out rc
  shift 2
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq 1 && $out =~ $pattern ]]; then
    echo "ok: $name: $out"
  else
    echo "FAILED: $name: exit $rc, expected 1 with a message matching '$pattern'; got: $out"
    failures=$((failures + 1))
  fi
}

if [[ $(id -u) -ne 0 ]]; then
  expect_failure "not root" "must run as root" bash "$script"
  echo "skipped: the other cases need root"
  ((failures == 0)) && exit 77
  exit 1
fi
expect_failure "not root" "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups bash "$script"

# A PATH with every command of this machine but mmdebstrap.
bin=$scratch/bin
mkdir -p "$bin"
for dir in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
  for f in "$dir"/*; do
    name=${f##*/}
    [[ $name == mmdebstrap || -e $bin/$name ]] || ln -s "$f" "$bin/$name"
  done
done
expect_failure "no mmdebstrap" "mmdebstrap is not installed" env PATH="$bin" bash "$script"

# A root left mounted by a killed run, then an unreachable mirror (a closed
# loopback port): the stale root is unmounted and removed, no new one is made.
stale=$FRESH_WORK_PARENT/tinyopt-fresh.killed
mkdir -p "$stale/root/proc"
mount -t tmpfs tmpfs "$stale/root/proc"
expect_failure "no mirror" "cannot reach the Debian mirror http://127.0.0.1:9/debian" \
  env FRESH_MIRROR=http://127.0.0.1:9/debian bash "$script"
if [[ -e $stale ]] || grep -q " $FRESH_WORK_PARENT/" /proc/self/mounts; then
  echo "FAILED: the stale root $stale is still there or still mounted"
  failures=$((failures + 1))
fi
left=$(find "$FRESH_WORK_PARENT" -mindepth 1 -maxdepth 1 -type d)
if [[ -n $left ]]; then
  echo "FAILED: a failed preflight left $left behind"
  failures=$((failures + 1))
fi
((failures == 0))
