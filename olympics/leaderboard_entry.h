// One row of the leaderboard: everything a validated submission measured,
// scored and ran on. Quantities that do not apply to an event (training
// speed for the GPT, decode speed for the image models, agreement for a
// classifier) are NaN here and NULL in the database.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tinyopt::olympics {

inline constexpr double kNotApplicable = std::numeric_limits<double>::quiet_NaN();

struct LeaderboardEntry {
  int64_t id = 0;              // assigned by the database
  std::string submission_id;   // unique per submission: resubmitting the same one is a no-op
  std::string event;           // "mlp", "cnn", "gpt"
  std::string team;
  std::string division;        // "closed" or "open"
  std::string recipe;          // recipe name
  nlohmann::json recipe_json = nlohmann::json::object();  // the recipe as run
  std::vector<std::string> techniques;                    // verified present in the model / run

  // Quality, recomputed by validate() on held-out data.
  std::string quality_metric;  // "test_accuracy" or "heldout_loss"
  double quality = kNotApplicable;
  double reference_quality = kNotApplicable;  // the FP32 reference model, same run
  double quality_ratio = kNotApplicable;      // >= 0.99 for the closed division
  double agreement = kNotApplicable;          // GPT: greedy-token agreement with the FP32 reference

  // SingleStream (batch 1), seconds per query.
  double latency_p50_s = kNotApplicable, latency_p90_s = kNotApplicable, latency_p99_s = kNotApplicable;
  int64_t queries = 0;
  // Offline: samples/s (images) or tokens/s (GPT) at offline_batch.
  double offline_throughput = kNotApplicable;
  int64_t offline_batch = 0;
  int64_t peak_memory_bytes = 0;  // tracking allocator: weights + peak working set
  int64_t model_bytes = 0;        // bytes of the model's parameter storage
  double train_samples_per_s = kNotApplicable;
  double decode_tokens_per_s = kNotApplicable;

  // Ratios over the baseline measured in the same run, and the score.
  double speedup_latency = kNotApplicable;      // SingleStream p50, per-round median ratio
  double speedup_latency_p90 = kNotApplicable;  // SingleStream p90 ratio: the score's latency metric
  double speedup_offline = kNotApplicable;
  double size_reduction = kNotApplicable;
  double score = 0;
  nlohmann::json score_parts = nlohmann::json::object();
  bool valid = false;
  std::vector<std::string> flags;  // validation findings (implausible speedup, ...)

  // Whether the machine was quiet while this was measured (profiler/measurement_conditions.h):
  // {"verdict": "quiet" | "contended" | "unknown", "reason", "others_cores", ...}.
  nlohmann::json measurement = nlohmann::json::object();
  bool contended() const { return measurement.value("verdict", std::string()) == "contended"; }

  int threads = 0;
  std::string machine;          // CPU model, cores, ISA
  std::string tinyopt_version;
  std::string git_commit;
  std::string model_sha256;        // the model measured: its tensors and config (olympics/model_digest.h)
  std::string input_model_sha256;  // the file it was made from (the reference model, or the recipe's own)
  std::string created_at;          // UTC, ISO 8601
};

nlohmann::json to_json(const LeaderboardEntry& e);
LeaderboardEntry entry_from_json(const nlohmann::json& j);
// A fresh random submission id (128 bits from the OS, hex).
std::string new_submission_id();

}  // namespace tinyopt::olympics
