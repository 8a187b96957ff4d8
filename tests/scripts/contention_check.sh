#!/usr/bin/env bash
# The Olympics on a busy machine: run the MLP event quiet, then beside one and
# two CPU-bound processes at the same priority. A loaded run's `all` entry must
# either keep its speedups within a factor of 2 of the quiet run's (SingleStream
# p90 and Offline), or be marked contended and kept off the rankings.
#
# Usage: tests/scripts/contention_check.sh TINYOPT_BINARY
# Exits 77 (skipped) when the quiet run was itself contended: something else
# is busy, so there is no quiet reference to compare with.
set -uo pipefail
cli=${1:?usage: contention_check.sh TINYOPT_BINARY}
scratch=$(mktemp -d)
loads=()
cleanup() {
  ((${#loads[@]})) && kill "${loads[@]}" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT
readonly factor=2

# run NAME: the MLP event into its own leaderboard; the JSON outcome in $scratch/NAME.json.
run() {
  # The thread count is the command's own choice, as for a user (test.sh exports OMP_NUM_THREADS=2).
  env -u OMP_NUM_THREADS "$cli" olympics --event mlp --team contention --db "$scratch/$1.db" --json >"$scratch/$1.json" 2>"$scratch/$1.err" ||
    { echo "FAILED: the $1 run exited non-zero:"; tail -5 "$scratch/$1.err"; exit 1; }
}
busy_loops() {
  for ((i = 0; i < $1; ++i)); do
    sh -c 'while :; do :; done' &
    loads+=($!)
  done
}

run quiet
for n in 1 2; do
  busy_loops "$n"
  run "load$n"
  kill "${loads[@]}"
  wait "${loads[@]}" 2>/dev/null
  loads=()
done

/usr/bin/python3 - "$scratch" "$factor" <<'EOF'
import json, sys
scratch, factor = sys.argv[1], float(sys.argv[2])

def entry(name):
    outcome = json.load(open(f"{scratch}/{name}.json"))
    event = outcome["events"][0]
    entry = next(s for s in event["submissions"] if s["recipe"] == "all")
    ranked = [e["recipe"] for e in outcome["leaderboard"].get("mlp", [])]
    return entry, ranked

quiet, _ = entry("quiet")
if quiet["measurement"]["verdict"] != "quiet":
    print("skipped: the quiet run was contended:", quiet["measurement"].get("reason"))
    sys.exit(77)
failures = 0
for name in ("load1", "load2"):
    e, ranked = entry(name)
    verdict = e["measurement"]["verdict"]
    ratios = {k: e[k] / quiet[k] for k in ("speedup_latency_p90", "speedup_offline")}
    within = all(1 / factor <= r <= factor for r in ratios.values())
    figures = ", ".join(f"{k} {e[k]:.1f}x (quiet {quiet[k]:.1f}x)" for k in ratios)
    print(f"{name}: {verdict}, {e['threads']} thread(s): {figures}; ranked: {ranked}")
    if verdict == "contended":
        if "all" in ranked:
            print(f"FAILED: {name}: a contended entry was ranked")
            failures += 1
        if not any("contention" in f for f in e["flags"]):
            print(f"FAILED: {name}: the contended entry carries no flag saying so")
            failures += 1
    elif not within:
        print(f"FAILED: {name}: speedups off by more than {factor}x from the quiet run, yet not marked contended")
        failures += 1
sys.exit(1 if failures else 0)
EOF
