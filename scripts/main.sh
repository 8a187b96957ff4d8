#!/usr/bin/env bash
# The main job: installs, builds and runs the acceleration ladder
# (`tinyopt backends` then `tinyopt bench matmul`) on the CPU backend.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install_deps.sh
scripts/build.sh build
build/tinyopt backends
build/tinyopt bench matmul --threads "${THREADS:-$(nproc)}" "$@"
