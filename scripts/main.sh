#!/usr/bin/env bash
# The main job: installs the Debian packages, builds (CPU; the CUDA backend
# too when nvcc is present) and runs the TinyMLPerf Olympics: all three events
# with recipes `baseline` and `all`, submitted to the local leaderboard
# (${XDG_DATA_HOME:-~/.local/share}/tinyopt/leaderboard.db), with an HTML
# report. Extra arguments go to `tinyopt olympics` (e.g. --event cnn).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install_deps.sh
scripts/build.sh build --target tinyopt_cli  # the command only; scripts/test.sh builds the rest
build/tinyopt olympics --report "${OLYMPICS_REPORT:-build/olympics.html}" "$@"
