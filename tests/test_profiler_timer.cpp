// Timer statistics on known samples, with a fake clock that only moves when a
// fake workload "runs", so every number below is exact and machine-independent.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "profiler/timer.h"

using namespace tinyopt;

namespace {

// Each call of work() advances the fake time by the next duration in `script`
// (cycling), so the timer's samples are exactly those durations.
struct FakeWork {
  double now = 0;
  std::vector<double> script;
  size_t next = 0;
  Clock clock() {
    return [this] { return now; };
  }
  void work() { now += script[next++ % script.size()]; }
};

TimerOptions fixed_runs(int warmup, int runs) {
  TimerOptions o;
  o.warmup = warmup;
  o.min_runs = o.max_runs = runs;
  o.min_seconds = 0;
  o.max_seconds = 1e9;
  return o;
}

}  // namespace

TEST(ProfilerTimer, PercentilesAndIqrMatchNumpyLinearOnKnownSamples) {
  // numpy.percentile(range(1, 11), [25, 50, 75, 90, 95, 99]) = 3.25 5.5 7.75 9.1 9.55 9.91
  const TimingStats s = summarize({7, 1, 3, 10, 2, 9, 4, 8, 6, 5});
  EXPECT_EQ(s.runs, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_NEAR(s.std, 3.0276503540974917, 1e-12);  // sample std (ddof=1)
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_NEAR(s.p50, 5.5, 1e-12);
  EXPECT_NEAR(s.p90, 9.1, 1e-12);
  EXPECT_NEAR(s.p95, 9.55, 1e-12);
  EXPECT_NEAR(s.p99, 9.91, 1e-12);
  EXPECT_NEAR(s.iqr, 7.75 - 3.25, 1e-12);
  EXPECT_NEAR(s.spread(), 4.5 / 5.5, 1e-12);
  // One sample: every percentile is that sample, spread 0.
  const TimingStats one = summarize({0.25});
  EXPECT_DOUBLE_EQ(one.p99, 0.25);
  EXPECT_DOUBLE_EQ(one.iqr, 0);
}

TEST(ProfilerTimer, MeasureSamplesEachRunWithTheInjectedClockAfterWarmup) {
  FakeWork w;
  // Two warm-up runs (100 s each: they must not be sampled), then 1..5 s
  // (whole seconds, so the fake clock's differences are exact).
  w.script = {100, 100, 1, 2, 3, 4, 5};
  Timer timer(fixed_runs(2, 5), w.clock());
  const TimingStats s = timer.measure([&] { w.work(); });
  ASSERT_EQ(s.runs, 5);
  EXPECT_EQ(timer.samples(), (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_DOUBLE_EQ(s.p50, 3);
  EXPECT_DOUBLE_EQ(s.iqr, 2);
  EXPECT_GE(s.threads, 1);  // the thread count is stated with every timing
}

TEST(ProfilerTimer, LargeSpreadIsWarnedAboutAndSmallIsNot) {
  FakeWork steady;
  steady.script = {1.0};
  EXPECT_TRUE(Timer(fixed_runs(0, 20), steady.clock()).measure([&] { steady.work(); }).warning.empty());
  FakeWork noisy;
  noisy.script = {1.0, 2.0};  // IQR/median = 1/1.5
  const TimingStats s = Timer(fixed_runs(0, 20), noisy.clock()).measure([&] { noisy.work(); });
  EXPECT_NE(s.warning.find("large spread"), std::string::npos) << s.warning;
}

TEST(ProfilerTimer, AdaptiveModeStopsOnceIqrOverMedianIsUnderTheTarget) {
  FakeWork w;
  // Ten noisy runs (1 s and 3 s), then steady 1 s runs: the spread falls
  // under 5% once the steady runs dominate the middle half.
  for (int i = 0; i < 10; ++i) w.script.push_back(i % 2 ? 3.0 : 1.0);
  for (int i = 0; i < 1000; ++i) w.script.push_back(1.0);
  TimerOptions o = fixed_runs(0, 10);
  o.max_runs = 500;
  o.target_spread = 0.05;
  const TimingStats s = Timer(o, w.clock()).measure([&] { w.work(); });
  EXPECT_TRUE(s.converged);
  EXPECT_LT(s.spread(), 0.05);
  EXPECT_GT(s.runs, 10);
  EXPECT_LT(s.runs, 100);
}

TEST(ProfilerTimer, AdaptiveModeEndsAtTheTimeBudgetWhenNeverSteady) {
  FakeWork w;
  w.script = {1.0, 3.0};
  TimerOptions o = fixed_runs(0, 10);
  o.max_runs = 100000;
  o.max_seconds = 200;  // fake seconds: ~100 runs
  o.target_spread = 0.01;
  const TimingStats s = Timer(o, w.clock()).measure([&] { w.work(); });
  EXPECT_FALSE(s.converged);
  EXPECT_GE(s.runs, 90);
  EXPECT_LE(s.runs, 110);
  EXPECT_FALSE(s.warning.empty());
}

TEST(ProfilerTimer, CompareInterleavesABBAAndReportsThePerPairRatios) {
  double now = 0;
  std::string order;
  const Clock clock = [&] { return now; };
  int pair_calls = 0;
  // A takes 3 ms, B 1 ms, and the "machine" slows down 10% after every call:
  // separate runs would see the drift, the per-pair ratios stay near 3.
  double speed = 1.0;
  const auto a = [&] { order += 'A'; now += 0.003 * speed; speed *= 1.1; ++pair_calls; };
  const auto b = [&] { order += 'B'; now += 0.001 * speed; speed *= 1.1; ++pair_calls; };
  const Comparison c = Timer(fixed_runs(1, 6), clock).compare(a, b);
  EXPECT_EQ(order, "AB" "ABBAABBAABBA");  // one warm-up pair, then alternating order
  ASSERT_EQ(c.ratios.size(), 6u);
  // Pairs run A first (ratio 3 / 1.1) or B first (ratio 3 * 1.1): median = their midpoint.
  for (size_t i = 0; i < c.ratios.size(); ++i)
    EXPECT_NEAR(c.ratios[i], i % 2 == 0 ? 3.0 / 1.1 : 3.0 * 1.1, 1e-9) << i;
  EXPECT_NEAR(c.speedup(), (3.0 / 1.1 + 3.0 * 1.1) / 2, 1e-9);
  EXPECT_EQ(c.ratio.runs, 6);
  EXPECT_EQ(c.a.runs, 6);
  EXPECT_GT(c.a.p50, c.b.p50);
}

TEST(ProfilerTimer, CompareOfEqualFunctionsHasRatioOne) {
  double now = 0;
  const auto same = [&] { now += 0.002; };
  const Comparison c = Timer(fixed_runs(0, 11), [&] { return now; }).compare(same, same);
  EXPECT_DOUBLE_EQ(c.speedup(), 1.0);
  EXPECT_DOUBLE_EQ(c.ratio.iqr, 0.0);
  EXPECT_TRUE(c.ratio.warning.empty());
}

TEST(ProfilerTimer, RealClockMeasuresRealWork) {
  TimerOptions o;
  o.min_runs = 5;
  o.min_seconds = 0;
  volatile double sink = 0;
  const TimingStats s = Timer(o).measure([&] {
    for (int i = 0; i < 10000; ++i) sink = sink + i;
  });
  EXPECT_GT(s.p50, 0);
  EXPECT_LE(s.min, s.p50);
  EXPECT_LE(s.p50, s.p99);
  EXPECT_NE(format_timing(s).find("threads"), std::string::npos);
}

TEST(ProfilerTimer, FormatSecondsUsesThreeDigitsAndAnSiPrefix) {
  EXPECT_EQ(format_seconds(2.19e-3), "2.19 ms");
  EXPECT_EQ(format_seconds(2.2e-3), "2.2 ms");
  EXPECT_EQ(format_seconds(840e-6), "840 \u00b5s");
  EXPECT_EQ(format_seconds(12.6e-6), "12.6 \u00b5s");
  EXPECT_EQ(format_seconds(1.2), "1.2 s");
  EXPECT_EQ(format_seconds(12e-9), "12 ns");
  EXPECT_EQ(format_seconds(1e-3), "1 ms");
  EXPECT_EQ(format_seconds(999.7e-6), "1 ms");  // rounds up into the next unit, never "1e+03 µs"
  EXPECT_EQ(format_seconds(0.9996), "1 s");
  EXPECT_EQ(format_seconds(4321.0), "4321 s");
  EXPECT_EQ(format_seconds(3e-11), "0.03 ns");
  EXPECT_EQ(format_seconds(0), "-");
  EXPECT_EQ(format_seconds(-1e-3), "-");
  EXPECT_EQ(format_seconds(std::nan("")), "-");
  TimingStats s;
  s.p50 = 2.19e-3, s.p90 = 2.28e-3, s.runs = 57, s.threads = 2;
  EXPECT_EQ(format_timing(s).substr(0, 27), "p50 2.19 ms (p90 2.28 ms, I");
}
