#include "olympics/score.h"

#include <algorithm>
#include <cmath>

namespace tinyopt::olympics {

namespace {
// A ratio that could not be measured (0, NaN) counts as no change rather than as zero.
double usable(double r) { return std::isfinite(r) && r > 0 ? r : 1.0; }
}  // namespace

nlohmann::json Score::parts() const {
  return {{"formula", "100 x S_latency^0.4 x S_offline^0.3 x R_size^0.2 x R_memory^0.1 x min(1, quality_ratio)^10; "
                      "S_latency = baseline SingleStream p90 / p90"},
          {"latency_factor", latency_factor},
          {"offline_factor", offline_factor},
          {"size_factor", size_factor},
          {"memory_factor", memory_factor},
          {"quality_factor", quality_factor},
          {"valid", valid},
          {"score", value}};
}

Score compute_score(const Speedup& s, double quality_ratio, bool valid, const ScoreWeights& w) {
  Score out;
  out.valid = valid;
  out.latency_factor = std::pow(usable(s.latency_p90), w.latency);  // MLPerf's SingleStream metric
  out.offline_factor = std::pow(usable(s.offline), w.offline);
  out.size_factor = std::pow(usable(s.size_reduction), w.size);
  out.memory_factor = std::pow(usable(s.memory_reduction), w.memory);
  const double q = std::isfinite(quality_ratio) ? std::clamp(quality_ratio, 0.0, 1.0) : 0.0;
  out.quality_factor = std::pow(q, w.quality_exponent);
  out.value = valid ? 100.0 * out.latency_factor * out.offline_factor * out.size_factor * out.memory_factor *
                          out.quality_factor
                    : 0.0;
  return out;
}

}  // namespace tinyopt::olympics
