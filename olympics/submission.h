// CompetitionSubmission: one recipe's result on one event, validated by the
// harness before it may reach the leaderboard.
//
// validate() never trusts a number it was given:
//   - quality is recomputed on held-out data (olympics/quality.h) from the
//     submission's own model and decode path;
//   - every output (logit, loss) must be finite;
//   - declared techniques must be present: INT8 -> int8 weights in the model,
//     pruning -> measured sparsity within 2 points of the declared one, KV
//     cache -> a cache was really allocated while decoding, a named backend ->
//     the profiled query ran that backend's kernels;
//   - speedups faster than the machine can compute are flagged: a batch-1
//     forward may not run the reference model's FLOPs faster than the measured
//     FP32 peak allows, scaled by 4 for INT8 and by 1/(1 - sparsity) for pruning;
//   - a quality figure the model file claims in its metadata is compared with
//     the measured one.
// Division: closed = the event's reference model, no retraining (pruning
// fine-tuning is retraining; INT8 calibration is not), and quality_ratio >=
// 0.99 (MLPerf's 99% rule; for the GPT also >= 99% greedy agreement).
// Anything else is open, with its quality reported.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "olympics/benchmark.h"
#include "olympics/leaderboard.h"
#include "olympics/quality.h"
#include "olympics/score.h"

namespace tinyopt::olympics {

inline constexpr double kClosedQualityRatio = 0.99;

// Quality is a property of the weights and the decode path, not of the
// backend: it is computed once per distinct (model file, techniques, cache)
// and shared by every submission with the same key.
class QualityCache {
 public:
  const QualityResult* find(const std::string& key) const;
  const QualityResult& put(const std::string& key, QualityResult q);

 private:
  std::map<std::string, QualityResult> cache_;
};

struct ValidationResult {
  bool valid = false;
  std::string division;                 // "closed" or "open"
  std::vector<std::string> division_reasons;  // why open
  std::vector<std::string> errors;      // make the submission invalid (score 0)
  std::vector<std::string> flags;       // reported with the entry
  std::vector<std::string> techniques;  // verified present
  QualityResult quality;
  bool quality_shared = false;          // reused from an identical model computed earlier in this run
  double quality_ratio = 0;
  // Contended when this entry or the baseline it is compared with ran beside another busy process:
  // such an entry is stored, marked, and kept off the default ranking.
  MeasurementConditions conditions;
};

// What the harness knows about the event's FP32 reference, measured in the same run.
struct ReferenceQuality {
  QualityResult fp32;
  std::vector<std::vector<int32_t>> continuations;  // GPT: the reference's greedy tokens
};

class CompetitionSubmission {
 public:
  CompetitionSubmission(const Event& event, std::string team, Contender& contender, BenchmarkResult result,
                        Speedup vs_baseline, const EventInputs& inputs, const ReferenceQuality& reference,
                        QualityCache& cache);

  const ValidationResult& validate();
  Score compute_score() const;  // after validate()
  LeaderboardEntry to_entry() const;
  // Validates first when needed; returns the entry's row id.
  int64_t submit_to_leaderboard(Leaderboard& board);

  const BenchmarkResult& result() const { return result_; }
  const Speedup& speedup() const { return speedup_; }
  const ValidationResult& validation() const { return validation_; }
  const Contender& contender() const { return contender_; }
  const Event& event() const { return event_; }
  const std::string& team() const { return team_; }
  const std::string& submission_id() const { return submission_id_; }

 private:
  const Event& event_;
  std::string team_;
  Contender& contender_;
  BenchmarkResult result_;
  Speedup speedup_;
  // inputs_ and cache_ belong to the event's run and are used by validate()
  // only; the reference is copied because to_entry() runs after the event's
  // locals are gone (the JSON summary at the end of the Olympics).
  const EventInputs& inputs_;
  ReferenceQuality reference_;
  QualityCache& cache_;
  ValidationResult validation_;
  bool validated_ = false;
  std::string submission_id_;
};

// The quality cache key of a prepared model.
std::string quality_key(const PreparedModel& p);
// "AMD EPYC ... | 2 cores | avx512f,..." for entries and reports.
std::string machine_description();

}  // namespace tinyopt::olympics
