#include "olympics/tables.h"

#include <cmath>

#include "profiler/memory_profiler.h"

namespace tinyopt::olympics {

// Quality with its unit: accuracy in percent, the GPT's held-out loss in nats per character.
std::string quality_text(const std::string& metric, double v) {
  if (!std::isfinite(v)) return "-";
  return metric == "test_accuracy" ? fmt::format("{:.2f}%", 100 * v) : fmt::format("{:.4f} nats/char", v);
}

namespace {

std::string ratio(double r) { return std::isfinite(r) && r > 0 ? fmt::format("{:.2f}x", r) : "-"; }

// What the quality column holds, and which way is better.
std::string quality_legend(const std::string& metric) {
  return metric == "test_accuracy" ? "test accuracy on 10,000 held-out images, higher is better"
                                   : "loss on held-out text in nats per character, lower is better";
}

}  // namespace

std::string event_table(const EventOutcome& eo) {
  const Event& e = *eo.event;
  std::string out = fmt::format("\n{} ({}): quality = {}; reference FP32 {}{}\n", e.name, e.key,
                                e.is_classifier() ? "accuracy on all 10,000 Fashion-MNIST test images"
                                                  : "held-out loss (nats/char) + greedy agreement",
                                quality_text(e.quality_metric, eo.reference.fp32.value),
                                e.is_classifier() ? "" : fmt::format(" over {} characters",
                                                                     eo.reference.fp32.samples));
  out += "  " + eo.quality_note + "\n";
  const char* unit = e.is_classifier() ? "img/s" : "tok/s";
  out += fmt::format("{:<24} {:>10} {:>10} {:>10} {:>8} {:>10} {:>12} {:>8} {:>10} {:>10} {:>12}\n", "contender",
                     "p50", "p90", "p99", "queries", "speedup", fmt::format("offline {}", unit), "speedup",
                     "size", "peak mem", e.is_classifier() ? "train img/s" : "decode tok/s");
  for (size_t i = 0; i < eo.contenders.size(); ++i) {
    const BenchmarkResult& r = eo.results[i];
    const Speedup s = compute_speedup(eo.results[0], r);
    const double extra = e.is_classifier() ? r.train_samples_per_s() : r.decode_tokens_per_s();
    out += fmt::format("{:<24} {:>10} {:>10} {:>10} {:>8} {:>10} {:>12.0f} {:>8} {:>10} {:>10} {:>12.1f}\n",
                       eo.contenders[i]->label + (eo.submitted[i] ? "" : " (step)"), format_seconds(r.single_stream.p50),
                       format_seconds(r.single_stream.p90), format_seconds(r.single_stream.p99), r.single_stream.runs,
                       ratio(s.latency), r.offline_throughput(), ratio(s.offline), format_bytes(double(r.model_bytes)),
                       format_bytes(double(r.peak_memory_bytes())), extra);
  }
  out += fmt::format("  (SingleStream: batch 1, {} per query, {} thread(s) for the fast recipes; Offline batch: "
                     "recipe's; speedups over baseline: medians of per-round ratios, measured interleaved)\n",
                     e.is_classifier() ? "one image" : fmt::format("{} greedy tokens", eo.results[0].single_stream_items),
                     eo.results.size() > 1 ? eo.results.back().threads_single_stream : eo.results[0].threads_single_stream);
  out += fmt::format("  event peak memory (tracking allocator, everything the event allocated at once): {}\n",
                     format_bytes(double(eo.event_peak_bytes)));
  out += "\n  Submissions (validated by the harness):\n";
  for (const auto& sub : eo.submissions) {
    const ValidationResult& v = sub->validation();
    const Score sc = sub->compute_score();
    out += fmt::format("  {:<16} {:<6} {:<7} quality {} (ratio {:.4f}{}){} score {:.1f} = 100 x {:.3f} (latency) x "
                       "{:.3f} (offline) x {:.3f} (size) x {:.3f} (memory) x {:.3f} (quality)\n",
                       sub->contender().label, v.division, v.valid ? "valid" : "INVALID",
                       quality_text(v.quality.metric, v.quality.value), v.quality_ratio,
                       std::isfinite(v.quality.agreement) ? fmt::format(", agreement {:.3f}", v.quality.agreement) : "",
                       v.quality_shared ? " [quality shared: same model]" : "", sc.value, sc.latency_factor,
                       sc.offline_factor, sc.size_factor, sc.memory_factor, sc.quality_factor);
    std::string techniques;
    for (const auto& t : v.techniques) techniques += (techniques.empty() ? "" : ", ") + t;
    out += fmt::format("  {:<16} techniques verified: {}\n", "", techniques.empty() ? "none" : techniques);
    out += fmt::format("  {:<16} measured: {}\n", "", v.conditions.describe());
    for (const auto& s : sub->contender().prepared.skipped) out += fmt::format("  {:<16} skipped: {}\n", "", s);
    for (const auto& r : v.division_reasons) out += fmt::format("  {:<16} open division: {}\n", "", r);
    for (const auto& f : v.flags) out += fmt::format("  {:<16} flag: {}\n", "", f);
    for (const auto& err : v.errors) out += fmt::format("  {:<16} INVALID: {}\n", "", err);
  }
  return out;
}

std::string ablation_table(const EventOutcome& eo) {
  if (eo.ablation.size() < 2) return "";
  const bool gpt = !eo.event->is_classifier();
  std::string out = fmt::format("\n  Ablation, {} (SingleStream p50{}):\n", eo.event->name,
                                gpt ? "; and decode tokens/s" : "");
  out += fmt::format("  {:<12} {:<44} {:>12} {:>12}{}\n", "step", "adds", "this step", "cumulative",
                     gpt ? fmt::format(" {:>14} {:>14}", "decode step", "decode cumul.") : "");
  for (const AblationStep& s : eo.ablation) {
    out += fmt::format("  {:<12} {:<44} {:>12} {:>12}{}\n", s.label, s.added.substr(0, 44), ratio(s.step_speedup),
                       ratio(s.cumulative_speedup),
                       gpt ? fmt::format(" {:>14} {:>14}", ratio(s.step_decode), ratio(s.cumulative_decode)) : "");
  }
  // The techniques' own contribution: the last step over the kernels-only step (what fp32-best runs).
  if (eo.ablation.size() > 2 && eo.ablation[1].label == "kernels") {
    const Speedup s = compute_speedup(eo.results[eo.ablation[1].contender], eo.results[eo.ablation.back().contender]);
    out += fmt::format("  {} over its kernels-only step (FP32, same backend and threads: fp32-best): SingleStream {}, "
                       "Offline {}{}\n",
                       eo.contenders[eo.ablation.back().contender]->label, ratio(s.latency), ratio(s.offline),
                       gpt ? fmt::format(", decode {}", ratio(s.decode)) : "");
  }
  return out;
}

std::string leaderboard_table(const std::string& event_key, const std::vector<LeaderboardEntry>& entries) {
  const Event& e = find_event(event_key);
  std::string out = fmt::format("\nLeaderboard: {} ({}), best entry per team, recipe and division\n", e.name, e.key);
  if (entries.empty()) return out + "  (no valid entries yet)\n";
  out += fmt::format("  quality: {}\n", quality_legend(e.quality_metric));
  out += fmt::format("  {:>3} {:<7} {:<14} {:<16} {:>8} {:>16} {:>10} {:>9} {:>9} {:>9}  {:<9} {:<20} {}\n", "#",
                     "div", "team", "recipe", "score", "quality", "p90", "p90 x", "offl. x", "size x", "measured",
                     "when (UTC)", "commit");
  int rank = 0;
  for (const LeaderboardEntry& x : entries) {
    out += fmt::format("  {:>3} {:<7} {:<14} {:<16} {:>8.1f} {:>16} {:>10} {:>9} {:>9} {:>9}  {:<9} {:<20} {}\n",
                       ++rank, x.division, x.team.substr(0, 14), x.recipe.substr(0, 16), x.score,
                       quality_text(x.quality_metric, x.quality), format_seconds(x.latency_p90_s),
                       ratio(x.speedup_latency_p90), ratio(x.speedup_offline), ratio(x.size_reduction),
                       x.measurement.value("verdict", std::string("unknown")), x.created_at, x.git_commit);
  }
  return out;
}

}  // namespace tinyopt::olympics
