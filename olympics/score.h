// compute_score(): one number per submission, from ratios measured in the
// same run, so it does not depend on the machine. The formula (shown with its
// parts in every table, entry and report):
//
//   score = 100 x S_latency^0.4 x S_offline^0.3 x R_size^0.2 x R_memory^0.1 x Q
//
//   S_latency  SingleStream p90 latency of `baseline` / the submission's (the
//              90th percentile is MLPerf's SingleStream metric; the p50 speedup,
//              a per-round median ratio, is reported beside it)
//   S_offline  Offline throughput speedup over `baseline`
//   R_size     baseline model bytes / submission model bytes
//   R_memory   baseline peak memory / submission peak memory (tracking allocator)
//   Q          quality factor = min(1, quality_ratio)^10, where quality_ratio is
//              accuracy / reference accuracy (images) or reference loss / loss
//              (GPT): losing 1% of the reference's quality costs ~10% of the score
//
// The weights sum to 1, so `baseline` scores exactly 100 and a submission
// twice as fast on every axis scores 200. An invalid submission (non-finite
// outputs, a declared technique missing from the model) scores 0.
#pragma once

#include <nlohmann/json.hpp>

#include "olympics/speedup.h"

namespace tinyopt::olympics {

struct ScoreWeights {
  double latency = 0.4, offline = 0.3, size = 0.2, memory = 0.1;
  double quality_exponent = 10;
};

struct Score {
  double value = 0;
  double latency_factor = 1, offline_factor = 1, size_factor = 1, memory_factor = 1, quality_factor = 1;
  bool valid = true;
  nlohmann::json parts() const;  // every factor and the formula, for tables and the leaderboard
};

Score compute_score(const Speedup& vs_baseline, double quality_ratio, bool valid, const ScoreWeights& w = {});

}  // namespace tinyopt::olympics
