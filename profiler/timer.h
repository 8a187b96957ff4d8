// Timer: warm-up, many timed runs, and the statistics a careful benchmark
// reports (median and tail percentiles, spread, thread count), never a single
// sample. Speedups come from compare(), which interleaves the two contenders
// in one process so machine drift (frequency, other jobs) cancels per pair.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "profiler/measurement_conditions.h"

namespace tinyopt {

struct TimingStats {
  int runs = 0;
  double mean = 0, std = 0, min = 0, max = 0;  // seconds
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0;
  double iqr = 0;                              // p75 - p25
  double p90_upper = 0;  // one-sided 99% upper confidence bound of the p90 (an order statistic; see below)
  int threads = 0;                             // CPU threads kernels used (set by Timer)
  bool converged = true;                       // adaptive mode: target spread reached within the budget
  std::string warning;                         // set by Timer when the spread is large
  MeasurementConditions conditions;            // quiet or contended, measured beside the samples (set by Timer)
  double spread() const { return p50 > 0 ? iqr / p50 : 0; }  // IQR / median
};

// Every statistic, in seconds, with its thread count and the conditions it was measured under.
nlohmann::json timing_json(const TimingStats& stats);

// Percentile q in [0, 100] with linear interpolation between closest ranks
// (NumPy's default `linear` method). `sorted` must be ascending and non-empty.
double percentile_sorted(const std::vector<double>& sorted, double q);
TimingStats summarize(std::vector<double> samples_seconds);
// A distribution-free one-sided upper confidence bound of the q-th percentile:
// the k-th smallest sample, with k the smallest rank such that fewer than k
// samples fall below the true percentile with probability `confidence`
// (normal approximation to the binomial, continuity corrected). With few
// samples it is the largest one. `samples` need not be sorted (partially
// reordered here); non-empty.
double percentile_upper_bound(std::vector<double>& samples, double q, double confidence = 0.99);

struct TimerOptions {
  int warmup = 3;
  int min_runs = 10;
  int max_runs = 1000;
  double min_seconds = 0.2;   // keep sampling until this much time was measured (and min_runs reached)
  double max_seconds = 5.0;   // hard budget
  // Adaptive mode when > 0: after min_runs/min_seconds, keep sampling until
  // IQR/median falls below this or the budget (max_runs, max_seconds) ends.
  double target_spread = 0;
  double warn_spread = 0.10;  // an IQR/median above this fills TimingStats::warning
  // A CUDA device is timed with events on its stream (after a synchronize),
  // so asynchronous kernels are timed to completion, not to their launch.
  Device device = Device::cpu();
};

// A side-by-side measurement of A and B. Ratios are t_A / t_B of one pair, so
// a ratio above 1 means B is faster; ratio.p50 is the speedup of B over A.
struct Comparison {
  TimingStats a, b;            // each side's own samples
  std::vector<double> ratios;  // one per pair, in run order
  TimingStats ratio;           // median, percentiles and IQR of the ratios (unitless)
  double speedup() const { return ratio.p50; }
};

// The clock the timer reads; replaceable so tests can inject a fake one.
using Clock = std::function<double()>;  // seconds, monotonic
double steady_seconds();

class Timer {
 public:
  explicit Timer(TimerOptions options = {}, Clock clock = steady_seconds);
  TimingStats measure(const std::function<void()>& fn) const;
  // Runs A B, B A, A B, ... (the order alternates so neither side always runs
  // on a cache the other just warmed) and summarises the per-pair ratios.
  // Stops on the same rules as measure(), adaptive mode reading the ratios' spread.
  Comparison compare(const std::function<void()>& fn_a, const std::function<void()>& fn_b) const;
  // The raw per-run samples of the last measure() call.
  const std::vector<double>& samples() const { return samples_; }

 private:
  class Stopwatch;  // host clock, or CUDA events for a CUDA device
  bool done(const std::vector<double>& samples, double measured, double elapsed) const;
  void finish(TimingStats& stats, const LoadSnapshot& begin) const;

  TimerOptions options_;
  Clock clock_;
  mutable std::vector<double> samples_;
};

// A duration as a person reads it: three significant digits and the unit
// that keeps them between 1 and 999 ("12 ns", "840 µs", "2.19 ms", "1.2 s");
// "-" for zero, negative or non-finite. Every table and report uses it.
std::string format_seconds(double seconds);
// "p50 1.23 ms (p90 1.3 ms, IQR 2.1%, 57 runs, 2 threads, quiet)" for logs.
std::string format_timing(const TimingStats& stats);

// Now, UTC, "2026-11-24T03:41:06Z": when a measurement was taken (machine
// peaks, leaderboard entries).
std::string utc_now_iso8601();

}  // namespace tinyopt
