// Timer: warm-up, many timed runs, and the statistics a careful benchmark
// reports (median and tail percentiles, spread), never a single sample.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/device.h"

namespace tinyopt {

struct TimingStats {
  int runs = 0;
  double mean = 0, std = 0, min = 0, max = 0;  // seconds
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0;
  double iqr = 0;                              // p75 - p25
  double spread() const { return p50 > 0 ? iqr / p50 : 0; }  // IQR / median
};

// Percentile q in [0, 100] with linear interpolation between closest ranks
// (NumPy's default `linear` method). `sorted` must be ascending and non-empty.
double percentile_sorted(const std::vector<double>& sorted, double q);
TimingStats summarize(std::vector<double> samples_seconds);

struct TimerOptions {
  int warmup = 3;
  int min_runs = 10;
  int max_runs = 1000;
  double min_seconds = 0.2;   // keep sampling until this much time was measured (and min_runs reached)
  double max_seconds = 5.0;   // hard budget
  Device device = Device::cpu();  // a CUDA device is synchronized around every run
};

// The clock the timer reads; replaceable so tests can inject a fake one.
using Clock = std::function<double()>;  // seconds, monotonic
double steady_seconds();

class Timer {
 public:
  explicit Timer(TimerOptions options = {}, Clock clock = steady_seconds);
  TimingStats measure(const std::function<void()>& fn) const;
  // The raw per-run samples of the last measure() call.
  const std::vector<double>& samples() const { return samples_; }

 private:
  TimerOptions options_;
  Clock clock_;
  mutable std::vector<double> samples_;
};

}  // namespace tinyopt
