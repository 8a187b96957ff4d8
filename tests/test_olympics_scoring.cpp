// Scoring, speedups and the interleaved runner: baseline scores exactly 100,
// each factor moves the score as documented, invalid scores 0; speedups are
// refused across runs; the runner meets its query minimum, alternates the
// order and recovers a known ratio between two workloads.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

#include "core/error.h"
#include "olympics/interleaved.h"
#include "olympics/score.h"
#include "olympics/speedup.h"

using namespace tinyopt::olympics;

TEST(OlympicsScore, BaselineIsHundredAndFactorsFollowTheFormula) {
  Speedup none;
  none.latency = none.latency_p90 = none.offline = none.size_reduction = none.memory_reduction = 1;
  EXPECT_DOUBLE_EQ(compute_score(none, 1.0, true).value, 100);

  Speedup s = none;
  s.latency_p90 = 16;  // 16^0.4 = 3.03: the p90 ratio is the score's latency metric
  s.latency = 99;      // the p50 ratio is information, not scored
  s.offline = 8;   // 8^0.3 = 1.866
  s.size_reduction = 4;  // 4^0.2 = 1.3195
  s.memory_reduction = 2;  // 2^0.1 = 1.0718
  const Score sc = compute_score(s, 1.0, true);
  EXPECT_NEAR(sc.latency_factor, std::pow(16, 0.4), 1e-12);
  EXPECT_NEAR(sc.value, 100 * std::pow(16, 0.4) * std::pow(8, 0.3) * std::pow(4, 0.2) * std::pow(2, 0.1), 1e-9);
  EXPECT_EQ(sc.parts().at("score").get<double>(), sc.value);
  EXPECT_TRUE(sc.parts().contains("formula"));

  // Quality: 1% below the reference costs ~10% (0.99^10), better than the reference earns nothing extra.
  EXPECT_NEAR(compute_score(none, 0.99, true).value, 100 * std::pow(0.99, 10), 1e-9);
  EXPECT_DOUBLE_EQ(compute_score(none, 1.05, true).value, 100);
  EXPECT_DOUBLE_EQ(compute_score(s, 1.0, false).value, 0);
  EXPECT_DOUBLE_EQ(compute_score(none, std::nan(""), true).value, 0);
  // An unmeasured ratio counts as no change.
  Speedup missing = none;
  missing.offline = 0;
  EXPECT_DOUBLE_EQ(compute_score(missing, 1.0, true).value, 100);
}

TEST(OlympicsSpeedup, RefusesResultsFromDifferentRunsAndPairsRounds) {
  BenchmarkResult a, b;
  a.run_id = 1;
  b.run_id = 2;
  EXPECT_THROW(compute_speedup(a, b), tinyopt::Error);
  b.run_id = 1;
  a.single_stream_rounds = {10, 20, 30};
  b.single_stream_rounds = {1, 4, 3};  // per-round ratios 10, 5, 10 -> median 10
  a.offline_rounds = {8};
  b.offline_rounds = {2};
  a.offline_items = 256;
  b.offline_items = 512;  // twice the batch in a quarter of... per item: (8/256) / (2/512) = 8
  a.model_bytes = 400;
  b.model_bytes = 100;
  const Speedup s = compute_speedup(a, b);
  EXPECT_DOUBLE_EQ(s.latency, 10);
  EXPECT_DOUBLE_EQ(s.offline, 8);
  EXPECT_DOUBLE_EQ(s.size_reduction, 4);
  EXPECT_TRUE(std::isnan(s.training));  // not measured: not applicable (null in JSON), never invented
  EXPECT_TRUE(std::isnan(s.decode));
}

TEST(OlympicsInterleaved, MeetsMinimumsAlternatesOrderAndRecoversARatio) {
  std::vector<std::string> order;
  auto spin = [](double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
    }
  };
  // Each slice runs inside its contestant's scope; record the order the scopes open.
  auto within = [&](const std::string& name) {
    return [&order, name](const std::function<void()>& slice) {
      order.push_back(name);
      slice();
    };
  };
  std::vector<Contestant> c = {
      {"slow", within("slow"), [&] { spin(400e-6); }},
      {"fast", within("fast"), [&] { spin(100e-6); }},
  };
  InterleaveOptions o;
  o.warmup = 1;
  o.min_queries = 64;
  o.min_seconds = 0.02;
  o.slice_seconds = 0.002;
  const InterleavedResult r = measure_interleaved(c, o);
  ASSERT_EQ(r.stats.size(), 2u);
  EXPECT_GE(r.stats[0].runs, 64);
  EXPECT_GE(r.stats[1].runs, 64);
  EXPECT_EQ(int(r.round_medians[0].size()), r.rounds);
  // Every slice (and the warm-up) ran in its scope, and the first contestant alternates between rounds.
  ASSERT_GE(order.size(), 6u);
  EXPECT_EQ(order[2], "slow");  // round 0 (after the two warm-ups): slow, fast
  EXPECT_EQ(order[4], "fast");  // round 1: fast, slow
  // A 4x workload ratio comes back as roughly 4x (busy loops; loose bounds for a shared machine).
  const double ratio = paired_speedup(r, 0, 1);
  EXPECT_GT(ratio, 2.0);
  EXPECT_LT(ratio, 8.0);
  EXPECT_GT(r.stats[0].p50, r.stats[1].p50);
}
