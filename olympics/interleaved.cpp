#include "olympics/interleaved.h"

#include <algorithm>

#include "core/error.h"
#include "core/threads.h"

namespace tinyopt::olympics {

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return percentile_sorted(v, 50);
}
}  // namespace

InterleavedResult measure_interleaved(const std::vector<Contestant>& contestants, const InterleaveOptions& o) {
  TINYOPT_CHECK(!contestants.empty(), "measure_interleaved: no contestants");
  TINYOPT_CHECK(o.min_queries >= 1 && o.slice_seconds > 0, "measure_interleaved: bad options");
  const size_t n = contestants.size();
  const double start = steady_seconds();
  auto within = [](const Contestant& c, const std::function<void()>& body) {
    if (c.within)
      c.within(body);
    else
      body();
  };
  for (const Contestant& c : contestants)
    within(c, [&] {
      for (int i = 0; i < o.warmup; ++i) c.query();
    });
  std::vector<std::vector<double>> samples(n);
  std::vector<double> measured(n, 0.0);
  std::vector<int> threads(n, 0);
  // Judged over the whole measurement, not per slice: a 20 ms slice is two clock ticks.
  const LoadSnapshot begin = take_load_snapshot();
  InterleavedResult r;
  r.round_medians.assign(n, {});
  // The p90 is precise enough when its 99% upper bound is within the tolerance of it.
  auto p90_known = [&](size_t i) {
    if (o.p90_tolerance <= 0) return true;
    std::vector<double> v = samples[i];
    const double bound = percentile_upper_bound(v, 90);
    std::sort(v.begin(), v.end());
    return bound <= (1 + o.p90_tolerance) * percentile_sorted(v, 90);
  };
  auto done = [&] {
    bool all_min = true, all_time = true;
    for (size_t i = 0; i < n; ++i) {
      all_min = all_min && int(samples[i].size()) >= o.min_queries;
      all_time = all_time && measured[i] >= o.min_seconds;
    }
    if (!all_min) return false;
    if (steady_seconds() - start >= o.max_seconds) return true;
    if (!all_time) return false;
    for (size_t i = 0; i < n; ++i)
      if (!p90_known(i)) return false;
    return true;
  };
  double last_progress = start;
  while (!done()) {
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (size_t(r.rounds) + k) % n;
      const Contestant& c = contestants[i];
      std::vector<double> slice;
      double slice_time = 0;
      within(c, [&] {
        threads[i] = num_threads();
        while (slice.empty() || (slice_time < o.slice_seconds && int(slice.size()) < o.max_queries_per_slice)) {
          const double t0 = steady_seconds();
          c.query();
          const double dt = steady_seconds() - t0;
          slice.push_back(dt);
          slice_time += dt;
        }
      });
      measured[i] += slice_time;
      r.round_medians[i].push_back(median(slice));
      samples[i].insert(samples[i].end(), slice.begin(), slice.end());
    }
    ++r.rounds;
    if (o.progress && steady_seconds() - last_progress > 2.0) {
      last_progress = steady_seconds();
      int least = int(samples[0].size());
      for (const auto& s : samples) least = std::min(least, int(s.size()));
      o.progress(fmt::format("  ... round {}, {} queries at least per contestant, {:.1f} s", r.rounds, least,
                             last_progress - start));
    }
  }
  const LoadSnapshot end = take_load_snapshot();
  for (size_t i = 0; i < n; ++i) {
    TimingStats s = summarize(samples[i]);
    s.threads = threads[i];
    s.conditions = judge_conditions(begin, end, threads[i]);
    s.converged = p90_known(i);
    r.stats.push_back(s);
  }
  r.seconds = steady_seconds() - start;
  return r;
}

double paired_speedup(const InterleavedResult& result, size_t a, size_t b) {
  TINYOPT_CHECK(a < result.round_medians.size() && b < result.round_medians.size(), "paired_speedup: no contestant");
  std::vector<double> ratios;
  for (int r = 0; r < result.rounds; ++r) {
    const double tb = result.round_medians[b][size_t(r)];
    if (tb > 0) ratios.push_back(result.round_medians[a][size_t(r)] / tb);
  }
  return median(ratios);
}

}  // namespace tinyopt::olympics
