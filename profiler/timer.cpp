#include "profiler/timer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/device_runtime.h"
#include "core/error.h"

namespace tinyopt {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double percentile_sorted(const std::vector<double>& sorted, double q) {
  TINYOPT_CHECK(!sorted.empty(), "percentile of an empty sample");
  const double rank = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

TimingStats summarize(std::vector<double> samples) {
  TINYOPT_CHECK(!samples.empty(), "cannot summarize zero timing samples");
  std::sort(samples.begin(), samples.end());
  TimingStats s;
  s.runs = static_cast<int>(samples.size());
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / s.runs;
  double var = 0;
  for (double v : samples) var += (v - s.mean) * (v - s.mean);
  s.std = s.runs > 1 ? std::sqrt(var / (s.runs - 1)) : 0;
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = percentile_sorted(samples, 50);
  s.p90 = percentile_sorted(samples, 90);
  s.p95 = percentile_sorted(samples, 95);
  s.p99 = percentile_sorted(samples, 99);
  s.iqr = percentile_sorted(samples, 75) - percentile_sorted(samples, 25);
  return s;
}

Timer::Timer(TimerOptions options, Clock clock) : options_(options), clock_(std::move(clock)) {}

TimingStats Timer::measure(const std::function<void()>& fn) const {
  for (int i = 0; i < options_.warmup; ++i) fn();
  device_synchronize(options_.device);
  samples_.clear();
  double measured = 0;
  const double start_all = clock_();
  while (static_cast<int>(samples_.size()) < options_.max_runs) {
    const double t0 = clock_();
    fn();
    device_synchronize(options_.device);  // asynchronous device work is timed to completion
    const double dt = clock_() - t0;
    samples_.push_back(dt);
    measured += dt;
    const bool enough = static_cast<int>(samples_.size()) >= options_.min_runs && measured >= options_.min_seconds;
    if (enough || clock_() - start_all >= options_.max_seconds) break;
  }
  return summarize(samples_);
}

}  // namespace tinyopt
