// run_olympics(): the whole competition for a set of events and recipes.
//
// Per event: load the data once; prepare each recipe's model (techniques
// applied); add `baseline` when it was not asked for (every speedup is over
// it) and the ablation steps of the most optimized recipe (its techniques
// added one at a time); measure every contender together, interleaved
// (olympics/benchmark.h); compute each recipe's speedups over `baseline`,
// validate it (quality recomputed on held-out data), score it and submit it
// to the leaderboard. Ablation steps are measured but never submitted.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "olympics/benchmark.h"
#include "olympics/submission.h"

namespace tinyopt::olympics {

struct OlympicsOptions {
  std::vector<std::string> events;   // keys or names; empty = all three
  std::vector<std::string> recipes;  // built-in names or files; empty = baseline, all
  std::string team;                  // empty = $USER, else "local"
  std::string db_path;               // empty = Leaderboard::default_path()
  bool submit = true;
  QuerySizes sizes;
  BenchmarkProfiler profiler;
  std::function<void(const std::string&)> progress;
};

struct AblationStep {
  std::string label;      // "baseline", "kernels", "+prune", "+int8", "+kv_cache"
  std::string added;      // what this step adds, in words
  size_t contender = 0;   // index into EventOutcome::contenders
  double step_speedup = kNotApplicable;        // SingleStream p50 over the previous step
  double cumulative_speedup = kNotApplicable;  // over baseline
  double step_decode = kNotApplicable, cumulative_decode = kNotApplicable;  // GPT decode tokens/s ratios (NaN: image events)
};

struct EventOutcome {
  const Event* event = nullptr;
  std::vector<std::unique_ptr<Contender>> contenders;  // [0] is baseline
  std::vector<bool> submitted;                         // a recipe asked for (vs an ablation step)
  std::vector<BenchmarkResult> results;                // parallel to contenders
  std::vector<std::unique_ptr<CompetitionSubmission>> submissions;
  std::vector<int64_t> entry_ids;                      // leaderboard rows, parallel to submissions
  std::vector<AblationStep> ablation;
  ReferenceQuality reference;
  std::string quality_note;    // how quality was computed (once per model, backend check)
  int64_t event_peak_bytes = 0;  // tracking allocator, the whole event
  double seconds = 0;
};

struct OlympicsOutcome {
  std::vector<EventOutcome> events;
  std::string machine;
  std::string team;
  std::string db_path;
  double seconds = 0;
  int64_t peak_rss_bytes = 0;
  std::vector<std::pair<std::string, std::vector<LeaderboardEntry>>> leaderboard;  // rankings per event (run order)
};

OlympicsOutcome run_olympics(const OlympicsOptions& options);
nlohmann::json to_json(const OlympicsOutcome& outcome);

}  // namespace tinyopt::olympics
