#include "olympics/speedup.h"

#include <algorithm>

#include "core/error.h"

namespace tinyopt::olympics {

namespace {

// Median over rounds of (a per item) / (b per item); rounds pair up by index.
double paired(const std::vector<double>& a, const std::vector<double>& b, double items_a, double items_b) {
  std::vector<double> ratios;
  for (size_t r = 0; r < std::min(a.size(), b.size()); ++r)
    if (a[r] > 0 && b[r] > 0) ratios.push_back((a[r] / items_a) / (b[r] / items_b));
  if (ratios.empty()) return kNotApplicable;
  std::sort(ratios.begin(), ratios.end());
  return percentile_sorted(ratios, 50);
}

double ratio(double a, double b) { return b > 0 ? a / b : kNotApplicable; }

}  // namespace

nlohmann::json Speedup::to_json() const {
  return {{"latency", latency}, {"latency_p90", latency_p90}, {"latency_p99", latency_p99},
          {"offline", offline}, {"training", training},       {"decode", decode},
          {"size_reduction", size_reduction}, {"memory_reduction", memory_reduction},
          {"conditions", conditions.to_json()}};
}

Speedup compute_speedup(const BenchmarkResult& baseline, const BenchmarkResult& optimized) {
  TINYOPT_CHECK(baseline.run_id == optimized.run_id,
                "compute_speedup: {} and {} were measured in different runs ({} vs {}); speedups are only "
                "computed between contenders measured together, interleaved",
                baseline.label, optimized.label, baseline.run_id, optimized.run_id);
  Speedup s;
  s.latency = paired(baseline.single_stream_rounds, optimized.single_stream_rounds,
                     double(baseline.single_stream_items), double(optimized.single_stream_items));
  s.latency_p90 = ratio(baseline.single_stream.p90, optimized.single_stream.p90);
  s.latency_p99 = ratio(baseline.single_stream.p99, optimized.single_stream.p99);
  s.offline = paired(baseline.offline_rounds, optimized.offline_rounds, double(baseline.offline_items),
                     double(optimized.offline_items));
  if (baseline.train_step.runs > 0 && optimized.train_step.runs > 0)
    s.training = paired(baseline.train_rounds, optimized.train_rounds, double(baseline.train_batch),
                        double(optimized.train_batch));
  if (baseline.decode.runs > 0 && optimized.decode.runs > 0)
    s.decode = paired(baseline.decode_rounds, optimized.decode_rounds, double(baseline.decode_tokens),
                      double(optimized.decode_tokens));
  s.size_reduction = ratio(double(baseline.model_bytes), double(optimized.model_bytes));
  s.memory_reduction = ratio(double(baseline.peak_memory_bytes()), double(optimized.peak_memory_bytes()));
  s.conditions = worse(baseline.conditions(), optimized.conditions());
  return s;
}

}  // namespace tinyopt::olympics
