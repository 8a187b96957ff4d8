#!/usr/bin/env bash
# Builds and runs every test: the normal build (with the CUDA backend when
# nvcc is present; CUDA cases report skipped without a GPU), then the CPU
# build under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--build-only]
#   --build-only: install, configure both configurations and build the Release
#   one (every test and benchmark program), run nothing. The sanitizer
#   configuration is configured (which checks its runtimes link) but not
#   compiled: same sources, same packages, another 15 minutes on 2 cores.
#   scripts/fresh_machine_check.sh uses it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build_only=0
case "${1:-}" in
  "") ;;
  --build-only) build_only=1 ;;
  *) echo "test.sh: unknown option '$1' (expected --build-only or nothing)" >&2; exit 2 ;;
esac
scripts/install_deps.sh --tests

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

echo "== build (Release) =="
scripts/build.sh build
if ((!build_only)); then
  echo "== tests (Release) =="
  (cd build && ctest --output-on-failure -j2)
fi

sanitize_args=(-DTINYOPT_SANITIZE=ON -DTINYOPT_CUDA=OFF -DTINYOPT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if ((build_only)); then
  echo "== configure (ASan + UBSan, CPU only) =="
  scripts/build.sh build-asan --configure-only "${sanitize_args[@]}"
  exit 0
fi
echo "== build (ASan + UBSan, CPU only) =="
scripts/build.sh build-asan "${sanitize_args[@]}"
echo "== tests (ASan + UBSan) =="
# oneDNN's JIT and libgomp keep allocations for the life of the process; leak
# checking is for our code and runs in the dedicated leak tests instead.
(cd build-asan && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j2)
