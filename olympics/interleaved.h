// Interleaved measurement of several contestants in one process, so their
// ratios hold on any machine: drift (frequency, other jobs on a shared
// machine) hits every contestant in the same round alike.
//
// Round r runs every contestant once, starting at contestant r % n (A B C,
// B C A, ...), so none always runs on caches the previous one warmed. Each
// slice runs inside the contestant's within() (its kernels and threads, set
// up untimed), query() at least once and until slice_seconds of measured time, each
// query timed on its own (per-query latencies for the percentiles). Rounds
// continue until every contestant has min_queries and min_seconds of
// measured time (and, with p90_tolerance, a precise enough p90);
// max_seconds (all contestants together) ends it early, but never before
// min_queries each.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "profiler/timer.h"

namespace tinyopt::olympics {

struct Contestant {
  std::string label;
  // Runs a slice (its argument) in the contestant's setting: kernels and
  // threads put in force by guards that end with the slice. Empty: run as is.
  std::function<void(const std::function<void()>&)> within;
  std::function<void()> query;  // timed
};

struct InterleaveOptions {
  int warmup = 2;                // untimed queries per contestant before the first round
  int min_queries = 64;
  double min_seconds = 0.5;      // measured time per contestant
  double max_seconds = 60;       // all contestants together, warm-up included
  double slice_seconds = 0.02;   // per contestant per round
  int max_queries_per_slice = 2000;
  // > 0: also keep sampling until every contestant's p90 is known to this
  // relative precision: its 99% upper confidence bound within (1 + tolerance)
  // x the estimate (the spirit of MLPerf's early-stopping rule). max_seconds
  // still ends it; a contestant that did not get there is marked not converged.
  double p90_tolerance = 0;
  std::function<void(const std::string&)> progress;  // optional: a line now and then
};

struct InterleavedResult {
  std::vector<TimingStats> stats;                  // per contestant, every query
  std::vector<std::vector<double>> round_medians;  // [contestant][round]: median query time in that round
  int rounds = 0;
  double seconds = 0;                              // wall time of the whole measurement
};

InterleavedResult measure_interleaved(const std::vector<Contestant>& contestants, const InterleaveOptions& options);

// Speedup of contestant b over a: the median over rounds of
// round_median[a] / round_median[b] (> 1: b is faster).
double paired_speedup(const InterleavedResult& result, size_t a, size_t b);

}  // namespace tinyopt::olympics
