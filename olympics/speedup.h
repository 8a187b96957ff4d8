// compute_speedup(baseline, optimized): hardware-independent ratios between
// two contenders measured in the same run (same run_id: interleaved round by
// round, olympics/interleaved.h). Latency and throughput ratios are medians
// of per-round ratios, so drift that hit both in a round cancels; the
// absolute numbers stay in the BenchmarkResults, with the machine's
// description next to them in every report.
#pragma once

#include <nlohmann/json.hpp>

#include "olympics/benchmark.h"
#include "olympics/leaderboard_entry.h"

namespace tinyopt::olympics {

// A ratio that does not apply (training speed of the GPT, decode speed of an
// image model) or was not measured is NaN, written as null in JSON.
struct Speedup {
  double latency = kNotApplicable;        // SingleStream p50: per-round median ratio (> 1: optimized is faster)
  double latency_p90 = kNotApplicable;    // ratio of the p90s over the whole run
  double latency_p99 = kNotApplicable;
  double offline = kNotApplicable;        // Offline throughput ratio (per round, per item: batch sizes may differ)
  double training = kNotApplicable;       // image events: training samples/s ratio
  double decode = kNotApplicable;         // GPT: decode tokens/s ratio
  double size_reduction = kNotApplicable;   // baseline model bytes / optimized model bytes
  double memory_reduction = kNotApplicable;  // baseline peak memory / optimized peak memory
  // A ratio is only as good as its worse side: contended when the baseline or the optimized contender was.
  MeasurementConditions conditions;
  nlohmann::json to_json() const;
};

// Throws if the two were not measured in the same run.
Speedup compute_speedup(const BenchmarkResult& baseline, const BenchmarkResult& optimized);

}  // namespace tinyopt::olympics
