#include "olympics/leaderboard_entry.h"

#include <random>

#include "core/error.h"

namespace tinyopt::olympics {

namespace {
// JSON has no NaN: not-applicable numbers are written as null.
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number_or_nan(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return kNotApplicable;
  return j.at(key).get<double>();
}
}  // namespace

nlohmann::json to_json(const LeaderboardEntry& e) {
  return {{"id", e.id},
          {"submission_id", e.submission_id},
          {"event", e.event},
          {"team", e.team},
          {"division", e.division},
          {"recipe", e.recipe},
          {"recipe_json", e.recipe_json},
          {"techniques", e.techniques},
          {"quality_metric", e.quality_metric},
          {"quality", number_or_null(e.quality)},
          {"reference_quality", number_or_null(e.reference_quality)},
          {"quality_ratio", number_or_null(e.quality_ratio)},
          {"agreement", number_or_null(e.agreement)},
          {"latency_p50_s", number_or_null(e.latency_p50_s)},
          {"latency_p90_s", number_or_null(e.latency_p90_s)},
          {"latency_p99_s", number_or_null(e.latency_p99_s)},
          {"queries", e.queries},
          {"offline_throughput", number_or_null(e.offline_throughput)},
          {"offline_batch", e.offline_batch},
          {"peak_memory_bytes", e.peak_memory_bytes},
          {"model_bytes", e.model_bytes},
          {"train_samples_per_s", number_or_null(e.train_samples_per_s)},
          {"decode_tokens_per_s", number_or_null(e.decode_tokens_per_s)},
          {"speedup_latency", number_or_null(e.speedup_latency)},
          {"speedup_offline", number_or_null(e.speedup_offline)},
          {"size_reduction", number_or_null(e.size_reduction)},
          {"score", e.score},
          {"score_parts", e.score_parts},
          {"valid", e.valid},
          {"flags", e.flags},
          {"threads", e.threads},
          {"machine", e.machine},
          {"tinyopt_version", e.tinyopt_version},
          {"git_commit", e.git_commit},
          {"model_sha256", e.model_sha256},
          {"input_model_sha256", e.input_model_sha256},
          {"speedup_latency_p90", e.speedup_latency_p90},
          {"measurement", e.measurement},
          {"created_at", e.created_at}};
}

LeaderboardEntry entry_from_json(const nlohmann::json& j) {
  LeaderboardEntry e;
  e.id = j.value("id", int64_t{0});
  e.submission_id = j.at("submission_id").get<std::string>();
  e.event = j.at("event").get<std::string>();
  e.team = j.at("team").get<std::string>();
  e.division = j.at("division").get<std::string>();
  e.recipe = j.at("recipe").get<std::string>();
  e.recipe_json = j.value("recipe_json", nlohmann::json::object());
  e.techniques = j.value("techniques", std::vector<std::string>{});
  e.quality_metric = j.value("quality_metric", "");
  e.quality = number_or_nan(j, "quality");
  e.reference_quality = number_or_nan(j, "reference_quality");
  e.quality_ratio = number_or_nan(j, "quality_ratio");
  e.agreement = number_or_nan(j, "agreement");
  e.latency_p50_s = number_or_nan(j, "latency_p50_s");
  e.latency_p90_s = number_or_nan(j, "latency_p90_s");
  e.latency_p99_s = number_or_nan(j, "latency_p99_s");
  e.queries = j.value("queries", int64_t{0});
  e.offline_throughput = number_or_nan(j, "offline_throughput");
  e.offline_batch = j.value("offline_batch", int64_t{0});
  e.peak_memory_bytes = j.value("peak_memory_bytes", int64_t{0});
  e.model_bytes = j.value("model_bytes", int64_t{0});
  e.train_samples_per_s = number_or_nan(j, "train_samples_per_s");
  e.decode_tokens_per_s = number_or_nan(j, "decode_tokens_per_s");
  e.speedup_latency = number_or_nan(j, "speedup_latency");
  e.speedup_offline = number_or_nan(j, "speedup_offline");
  e.size_reduction = number_or_nan(j, "size_reduction");
  e.score = j.value("score", 0.0);
  e.score_parts = j.value("score_parts", nlohmann::json::object());
  e.valid = j.value("valid", false);
  e.flags = j.value("flags", std::vector<std::string>{});
  e.threads = j.value("threads", 0);
  e.machine = j.value("machine", "");
  e.tinyopt_version = j.value("tinyopt_version", "");
  e.git_commit = j.value("git_commit", "");
  e.model_sha256 = j.value("model_sha256", "");
  e.input_model_sha256 = j.value("input_model_sha256", "");
  e.speedup_latency_p90 = j.contains("speedup_latency_p90") && j.at("speedup_latency_p90").is_number()
                              ? j.at("speedup_latency_p90").get<double>()
                              : kNotApplicable;
  if (j.contains("measurement") && j.at("measurement").is_object()) e.measurement = j.at("measurement");
  e.created_at = j.value("created_at", "");
  return e;
}

std::string new_submission_id() {
  std::random_device os;  // /dev/urandom on Linux: distinct across processes started at the same instant
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    const uint32_t word = os();
    for (int shift = 28; shift >= 0; shift -= 4) out += hex[(word >> shift) & 0xf];
  }
  return out;
}

}  // namespace tinyopt::olympics
