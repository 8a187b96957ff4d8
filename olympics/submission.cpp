#include "olympics/submission.h"

#include <cmath>

#include "core/cpu_info.h"
#include "core/dispatcher.h"
#include "core/error.h"
#include "core/threads.h"
#include "olympics/build_info.h"
#include "profiler/machine_peak.h"
#include "profiler/timer.h"

namespace tinyopt::olympics {

const QualityResult* QualityCache::find(const std::string& key) const {
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : &it->second;
}

const QualityResult& QualityCache::put(const std::string& key, QualityResult q) {
  return cache_[key] = std::move(q);
}

std::string quality_key(const PreparedModel& p) {
  // The weights (the prepared model's digest) and the decode path.
  std::string key = p.model_sha256;
  if (p.kv_cache) key += "+kv_cache";
  return key;
}

std::string machine_description() {
  const auto& cpu = cpu::cpu_info();
  return fmt::format("{} | {} logical CPUs | {}", cpu.model_name, cpu.logical_cpus, cpu.isa_summary());
}

CompetitionSubmission::CompetitionSubmission(const Event& event, std::string team, Contender& contender,
                                             BenchmarkResult result, Speedup vs_baseline, const EventInputs& inputs,
                                             const ReferenceQuality& reference, QualityCache& cache)
    : event_(event),
      team_(std::move(team)),
      contender_(contender),
      result_(std::move(result)),
      speedup_(vs_baseline),
      inputs_(inputs),
      reference_(reference),
      cache_(cache),
      submission_id_(new_submission_id()) {}

namespace {

// Does the profiled query show the recipe's backend? Only a single global
// variant name can be checked: ops that have that variant must have run it.
void check_backend(const std::string& backend, const BenchmarkResult& r, ValidationResult& v) {
  if (backend == "auto" || backend.find(',') != std::string::npos || backend.find('=') != std::string::npos) return;
  bool ran = false;
  for (OpBase* op : OptimizedBackend::instance().ops()) {
    if (op->find_variant(backend) < 0) continue;
    auto it = r.variants.find(op->name());
    if (it == r.variants.end()) continue;
    if (it->second.find(backend) == std::string::npos) {
      v.errors.push_back(fmt::format("declared backend {} but op {} ran {}", backend, op->name(), it->second));
    } else {
      ran = true;
    }
  }
  if (!ran) v.flags.push_back(fmt::format("no profiled op ran the declared backend {}", backend));
}

}  // namespace

const ValidationResult& CompetitionSubmission::validate() {
  if (validated_) return validation_;
  ValidationResult& v = validation_;
  PreparedModel& p = contender_.prepared;
  nn::Model& model = p.model;

  // Quality: recomputed from the model itself (once per distinct model, with automatic routing).
  const std::string key = quality_key(p);
  if (const QualityResult* q = cache_.find(key)) {
    v.quality = *q;
    v.quality_shared = true;
  } else {
    const ScopedBackendChoice automatic(BackendChoice{});
    const ScopedThreads threads(contender_.settings.threads);
    v.quality = cache_.put(key, event_.is_classifier()
                                    ? classifier_quality(model, *inputs_.images)
                                    : gpt_quality(model, p.kv_cache, inputs_, reference_.continuations));
  }
  const QualityResult& q = v.quality;
  const double ref = reference_.fp32.value;
  v.quality_ratio = event_.higher_is_better ? (ref > 0 ? q.value / ref : 0) : (q.value > 0 ? ref / q.value : 0);
  if (q.nonfinite_outputs > 0)
    v.errors.push_back(fmt::format("{} non-finite outputs on the held-out data", q.nonfinite_outputs));
  if (!std::isfinite(q.value)) v.errors.push_back("quality is not finite");

  // Declared techniques must be present.
  const TechniqueEvidence evidence{model, contender_.settings, result_.kv_cache_bytes, speedup_.size_reduction};
  double allowance = 1;  // how much faster than dense FP32 the techniques present may make a query
  for (const Technique& t : techniques()) {
    if (std::find(p.applied.begin(), p.applied.end(), t.name) == p.applied.end()) continue;
    if (const std::string missing = t.verify(evidence); missing.empty()) {
      v.techniques.push_back(t.name);
      allowance *= t.speed_allowance(contender_.settings);
    } else {
      v.errors.push_back(fmt::format("declared {} but {}", t.name, missing));
    }
  }
  check_backend(contender_.settings.backend, result_, v);

  // Implausible speed: the reference forward's FLOPs faster than this machine can compute them.
  if (event_.is_classifier() && result_.flops_per_query > 0 && result_.single_stream.p50 > 0) {
    const MachinePeaks peaks = machine_peaks(std::max(1, result_.threads_single_stream));
    const double allowed = peaks.fp32_gflops * 1e9 * allowance;
    // The dense FP32 reference's work, whatever the submission did to its own model.
    const double dense_flops = std::max(result_.flops_per_query, 1.0);
    const double achieved = dense_flops / result_.single_stream.p50;
    if (achieved > 2 * allowed)
      v.flags.push_back(fmt::format("implausible speedup: {:.1f} effective GFLOP/s at batch 1 exceeds 2x what this "
                                    "machine allows ({:.1f} GFLOP/s with the declared techniques)",
                                    achieved * 1e-9, allowed * 1e-9));
  }
  if (speedup_.latency > 10000) v.flags.push_back(fmt::format("implausible speedup: {:.0f}x", speedup_.latency));

  // A figure the model file claims is checked against the measured one.
  auto claimed = model.metadata.find(event_.is_classifier() ? "test_accuracy" : "heldout_loss");
  if (claimed != model.metadata.end() && p.applied.empty()) {
    try {
      double c = std::stod(claimed->second);
      if (event_.is_classifier() && c > 1) c /= 100;  // "88.87" or "0.8887"
      const double tolerance = event_.is_classifier() ? 0.005 : 0.05;
      if (std::abs(c - q.value) > tolerance)
        v.flags.push_back(fmt::format("the model file claims {} = {}, measured {:.4f}", claimed->first,
                                      claimed->second, q.value));
    } catch (const std::exception&) {
      v.flags.push_back(fmt::format("the model file's {} '{}' is not a number", claimed->first, claimed->second));
    }
  }

  // Division.
  if (p.own_model) v.division_reasons.push_back("brings its own model file");
  if (p.retrained) v.division_reasons.push_back("retrains (pruning fine-tuning)");
  if (v.quality_ratio < kClosedQualityRatio)
    v.division_reasons.push_back(fmt::format("quality ratio {:.4f} < {}", v.quality_ratio, kClosedQualityRatio));
  if (!event_.is_classifier() && q.agreement < kClosedQualityRatio)
    v.division_reasons.push_back(fmt::format("greedy agreement {:.4f} < {}", q.agreement, kClosedQualityRatio));
  v.division = v.division_reasons.empty() ? "closed" : "open";
  v.valid = v.errors.empty();
  v.conditions = speedup_.conditions;
  if (v.conditions.contended())
    v.flags.push_back(fmt::format("measured under contention ({}); kept off the rankings: rerun on a quiet machine, "
                                  "or with fewer --threads",
                                  v.conditions.reason));
  validated_ = true;
  return v;
}

Score CompetitionSubmission::compute_score() const {
  TINYOPT_CHECK(validated_, "compute_score: validate() the submission first");
  return olympics::compute_score(speedup_, validation_.quality_ratio, validation_.valid);
}

LeaderboardEntry CompetitionSubmission::to_entry() const {
  TINYOPT_CHECK(validated_, "to_entry: validate() the submission first");
  const ValidationResult& v = validation_;
  const Score score = compute_score();
  LeaderboardEntry e;
  e.submission_id = submission_id_;
  e.event = event_.key;
  e.team = team_;
  e.division = v.division;
  e.recipe = contender_.recipe.name;
  e.recipe_json = contender_.recipe.json;
  e.techniques = v.techniques;
  e.quality_metric = v.quality.metric;
  e.quality = v.quality.value;
  e.reference_quality = reference_.fp32.value;
  e.quality_ratio = v.quality_ratio;
  e.agreement = v.quality.agreement;
  const double items = double(result_.single_stream_items);
  (void)items;
  e.latency_p50_s = result_.single_stream.p50;
  e.latency_p90_s = result_.single_stream.p90;
  e.latency_p99_s = result_.single_stream.p99;
  e.queries = result_.single_stream.runs;
  e.offline_throughput = result_.offline_throughput();
  e.offline_batch = result_.offline_batch;
  e.peak_memory_bytes = result_.peak_memory_bytes();
  e.model_bytes = result_.model_bytes;
  e.train_samples_per_s = result_.train_step.runs > 0 ? result_.train_samples_per_s() : kNotApplicable;
  e.decode_tokens_per_s = result_.decode.runs > 0 ? result_.decode_tokens_per_s() : kNotApplicable;
  e.speedup_latency = speedup_.latency;
  e.speedup_latency_p90 = speedup_.latency_p90;
  e.speedup_offline = speedup_.offline;
  e.size_reduction = speedup_.size_reduction;
  e.score = score.value;
  e.score_parts = score.parts();
  e.valid = v.valid;
  e.flags = v.flags;
  for (const std::string& err : v.errors) e.flags.push_back("invalid: " + err);
  for (const std::string& r : v.division_reasons) e.flags.push_back("open: " + r);
  e.threads = result_.threads_batched;
  e.machine = machine_description();
  e.tinyopt_version = build_info::kVersion;
  e.git_commit = build_info::kGitCommit;
  e.measurement = v.conditions.to_json();
  e.model_sha256 = contender_.prepared.model_sha256;
  e.input_model_sha256 = contender_.prepared.input_sha256;
  e.created_at = utc_now_iso8601();
  return e;
}

int64_t CompetitionSubmission::submit_to_leaderboard(Leaderboard& board) {
  validate();
  return board.submit(to_entry());
}

}  // namespace tinyopt::olympics
