#!/usr/bin/env bash
# Configures and builds tinyopt. Usage: scripts/build.sh BUILD_DIR [extra cmake args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/build.sh BUILD_DIR [cmake args]}
shift
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" > "$build.configure.log" 2>&1 || {
  cat "$build.configure.log"; exit 1; }
grep -E "tinyopt:" "$build.configure.log" || true
cmake --build "$build" -j"$(nproc)"
