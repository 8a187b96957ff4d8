#!/usr/bin/env bash
# Fuzzes every parser of outside input for a bounded time (docs/RELIABILITY.md).
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, every target)
#        scripts/fuzz.sh --seeds                           (rewrite fuzz/corpus/ from tinyopt_fuzz_seeds)
#
# Configures a clang build (build-fuzz, or $FUZZ_BUILD_DIR) with TINYOPT_FUZZ=ON
# (libFuzzer + ASan + UBSan), builds the fuzz_<target> binaries and runs each
# over its checked-in seeds (fuzz/corpus/<target>) and crash regressions
# (fuzz/regressions/<target>); new interesting inputs go to a scratch folder,
# never into the repository. Any crash, sanitizer report, leak, timeout (10 s
# per input) or out-of-memory (2 GiB RSS) fails the script; the input that did
# it is kept in $FUZZ_ARTIFACTS (default build-fuzz/artifacts) and should be
# copied to fuzz/regressions/<target>/ once the bug is fixed.
# Targets run one per core at once (FUZZ_JOBS=N to change). Per-target
# figures (executions, inputs added, time) go to build-fuzz/fuzz-stats.tsv.
# FUZZ_SEED=N fixes libFuzzer's random seed (CI does, see .ci/run); unset, each
# run draws a fresh one and explores new ground.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
"$root/scripts/install_deps.sh" --fuzz

configure() {
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DTINYOPT_FUZZ=ON -DTINYOPT_CUDA=OFF \
    -DTINYOPT_BUILD_TESTS=OFF -DTINYOPT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
}

if [[ "${1:-}" == "--seeds" ]]; then
  configure
  cmake --build "$build" -j"$(nproc)" --target tinyopt_fuzz_seeds
  "$build/fuzz/tinyopt_fuzz_seeds" "$root/fuzz/corpus"
  echo "fuzz.sh: seeds written to fuzz/corpus/"
  exit 0
fi

seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(safetensors model npy idx gpt_vocab recipe quant_model csr_model); fi

# Largest input per target: a little above its biggest seed, so the fuzzer
# mutates whole files without wasting time on megabyte inputs.
max_len_for() {
  case "$1" in
    model | quant_model | csr_model) echo 16384 ;;
    safetensors) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

# FUZZ_NO_BUILD=1 runs the binaries already in $build (e.g. while that folder builds something else).
if [[ "${FUZZ_NO_BUILD:-0}" != 1 ]]; then
  configure
  cmake --build "$build" -j"$(nproc)" --target fuzz_all
fi

artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}
# New inputs go to $FUZZ_WORK_DIR when set (kept, so a later run continues
# from them), else to a temporary folder removed at the end.
if [[ -n "${FUZZ_WORK_DIR:-}" ]]; then
  scratch=$FUZZ_WORK_DIR
  mkdir -p "$scratch"
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
fi
mkdir -p "$artifacts"
stats="$build/fuzz-stats.tsv"
printf "target\tseconds\texecutions\texec_per_s\tcorpus_added\tresult\n" >"$stats"
# One target: its log, its result line in $build/fuzz-$t.result.
fuzz_one() {
  local t=$1 bin="$build/fuzz/fuzz_$1" log="$build/fuzz-$1.log" rc execs added rate result
  mkdir -p "$scratch/$t"
  echo "== fuzz $t: ${seconds}s =="
  set +e
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OMP_NUM_THREADS=1 \
    "$bin" "$scratch/$t" "$root/fuzz/corpus/$t" $( [[ -d "$root/fuzz/regressions/$t" ]] && echo "$root/fuzz/regressions/$t" ) \
    -max_total_time="$seconds" -max_len="$(max_len_for "$t")" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/$t-" -print_final_stats=1 ${FUZZ_SEED:+-seed="$FUZZ_SEED"} >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  added=$(grep -oE 'stat::new_units_added: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  result=ok
  if ((rc != 0)); then
    result=FAILED
    echo "fuzz.sh: $t FAILED (exit $rc); the log is $log, the input in $artifacts:" >&2
    grep -E "ERROR|SUMMARY|invariant|artifact_prefix|Test unit written" "$log" | head -20 >&2 || true
  fi
  printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$t" "$seconds" "$execs" "$rate" "$added" "$result" >"$build/fuzz-$t.result"
}

# Each target is single-threaded: run one per core (FUZZ_JOBS to change), so
# every target still gets its full time on a core of its own.
parallel=${FUZZ_JOBS:-$(nproc)}
for t in "${targets[@]}"; do
  [[ -x "$build/fuzz/fuzz_$t" ]] || { echo "fuzz.sh: no fuzz target '$t'" >&2; exit 2; }
  rm -f "$build/fuzz-$t.result"
done
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  fuzz_one "$t" &
done
wait
status=0
for t in "${targets[@]}"; do
  if [[ -f "$build/fuzz-$t.result" ]]; then
    tee -a "$stats" <"$build/fuzz-$t.result"
    [[ $(cut -f6 "$build/fuzz-$t.result") == ok ]] || status=1
  else
    echo "fuzz.sh: $t left no result" >&2
    status=1
  fi
done
echo "fuzz.sh: figures in $stats"
exit $status
