// compute_speedup(baseline, optimized): hardware-independent ratios between
// two contenders measured in the same run (same run_id: interleaved round by
// round, olympics/interleaved.h). Latency and throughput ratios are medians
// of per-round ratios, so drift that hit both in a round cancels; the
// absolute numbers stay in the BenchmarkResults, with the machine's
// description next to them in every report.
#pragma once

#include <nlohmann/json.hpp>

#include "olympics/benchmark.h"

namespace tinyopt::olympics {

struct Speedup {
  double latency = 0;         // SingleStream p50: per-round median ratio (> 1: optimized is faster)
  double latency_p90 = 0;     // ratio of the p90s over the whole run
  double latency_p99 = 0;
  double offline = 0;         // Offline throughput ratio (per round, per item: batch sizes may differ)
  double training = 0;        // image events: training samples/s ratio (0 when not measured)
  double decode = 0;          // GPT: decode tokens/s ratio (0 when not measured)
  double size_reduction = 0;  // baseline model bytes / optimized model bytes
  double memory_reduction = 0;  // baseline peak memory / optimized peak memory
  nlohmann::json to_json() const;
};

// Throws if the two were not measured in the same run.
Speedup compute_speedup(const BenchmarkResult& baseline, const BenchmarkResult& optimized);

}  // namespace tinyopt::olympics
