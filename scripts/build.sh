#!/usr/bin/env bash
# Configures and builds tinyopt.
# Usage: scripts/build.sh BUILD_DIR [--target NAME | --configure-only] [extra cmake args...]
#   --target NAME     builds only that target (and what it needs); default: everything
#   --configure-only  configures, builds nothing
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/build.sh BUILD_DIR [--target NAME | --configure-only] [cmake args]}
shift
build_args=()
case "${1:-}" in
  --target) build_args=(--target "${2:?--target needs a name}"); shift 2 ;;
  --configure-only) build_args=(none); shift ;;
esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" > "$build.configure.log" 2>&1 || {
  cat "$build.configure.log"; exit 1; }
grep -E "tinyopt:" "$build.configure.log" || true
[[ "${build_args[*]}" == none ]] && exit 0
cmake --build "$build" -j"$(nproc)" "${build_args[@]}"
