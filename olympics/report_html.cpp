#include "olympics/report_html.h"

#include <cmath>

#include "core/error.h"
#include "io/atomic_file.h"
#include "olympics/svg_chart.h"
#include "olympics/tables.h"
#include "profiler/memory_profiler.h"

namespace tinyopt::olympics {

namespace {

const char* kColors[] = {"#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"};
const char* color(size_t i) { return kColors[i % (sizeof(kColors) / sizeof(kColors[0]))]; }

// The page fits windows from 900 px (smaller table text below 1000 px); charts
// shrink with narrower ones (viewBox); table cells wrap between words.
constexpr const char* kStyle = R"css(
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
@media (max-width: 1000px) { table { font-size: 0.8em; } }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; overflow-wrap: break-word; }
th:first-child, td:first-child { text-align: left; } td.text { text-align: left; }
.note { color: #555; font-size: 0.9em; overflow-wrap: anywhere; } .invalid { color: #b00; } .flag { color: #a60; }
svg.chart { display: block; margin: 1em 0; background: #fafafa; border: 1px solid #ddd; max-width: 100%; height: auto; }
svg .grid { stroke: #e3e3e3; }
)css";

std::string td(const std::string& s) { return "<td>" + html_escape(s) + "</td>"; }
std::string td_text(const std::string& s) { return "<td class=\"text\">" + html_escape(s) + "</td>"; }
// A quantity with its unit ("2.19 ms", "976.6 KiB") never wraps between the two.
std::string td_quantity(const std::string& s) {
  std::string h = html_escape(s);
  for (size_t at = h.find(' '); at != std::string::npos; at = h.find(' ', at)) h.replace(at, 1, "&nbsp;");
  return "<td>" + h + "</td>";
}
std::string ratio_text(double r) { return std::isfinite(r) && r > 0 ? fmt::format("{:.2f}x", r) : "-"; }

std::string event_section(const ReportEvent& eo) {
  const Event& e = *eo.event;
  std::string h = fmt::format("<h2 id=\"{}\">{} ({})</h2>\n<p class=\"note\">{}</p>\n", e.key, html_escape(e.name),
                              e.key, html_escape(eo.quality_note));
  h += "<table><tr><th>contender</th><th>p50</th><th>p90</th><th>p99</th><th>queries</th><th>latency speedup</th>"
       "<th>offline " + html_escape(eo.contenders.empty() ? "" : eo.contenders[0].result.throughput_unit) +
       "</th><th>offline speedup</th><th>model size</th><th>peak memory</th><th>" +
       std::string(e.is_classifier() ? "training samples/s" : "decode tokens/s") + "</th></tr>\n";
  for (const ReportContender& c : eo.contenders) {
    const BenchmarkResult& r = c.result;
    const Speedup& s = c.vs_baseline;
    h += "<tr>" + td(c.label + (c.submitted ? "" : " (ablation step)")) +
         td_quantity(format_seconds(r.single_stream.p50)) + td_quantity(format_seconds(r.single_stream.p90)) +
         td_quantity(format_seconds(r.single_stream.p99)) + td(std::to_string(r.single_stream.runs)) +
         td(ratio_text(s.latency)) + td(fmt::format("{:.0f}", r.offline_throughput())) + td(ratio_text(s.offline)) +
         td_quantity(format_bytes(double(r.model_bytes))) + td_quantity(format_bytes(double(r.peak_memory_bytes()))) +
         td(fmt::format("{:.1f}", e.is_classifier() ? r.train_samples_per_s() : r.decode_tokens_per_s())) + "</tr>\n";
  }
  h += "</table>\n<table><tr><th>submission</th><th>division</th><th>valid</th><th>quality</th><th>quality ratio</th>"
       "<th>score</th><th>latency f.</th><th>offline f.</th><th>size f.</th><th>memory f.</th><th>quality f.</th>"
       "</tr>\n";
  for (const ReportSubmission& sub : eo.submissions) {
    const ValidationResult& v = sub.validation;
    const Score& sc = sub.score;
    std::string techniques;
    for (const auto& t : v.techniques) techniques += (techniques.empty() ? "" : ", ") + t;
    h += "<tr>" + td(sub.label) + td(v.division) + td(v.valid ? "yes" : "NO") +
         td(e.is_classifier() ? fmt::format("{:.2f}%", 100 * v.quality.value)
                              : fmt::format("{:.4f} nats/char, agreement {:.3f}", v.quality.value, v.quality.agreement)) +
         td(fmt::format("{:.4f}", v.quality_ratio)) + td(fmt::format("{:.1f}", sc.value)) +
         td(fmt::format("{:.3f}", sc.latency_factor)) + td(fmt::format("{:.3f}", sc.offline_factor)) +
         td(fmt::format("{:.3f}", sc.size_factor)) + td(fmt::format("{:.3f}", sc.memory_factor)) +
         td(fmt::format("{:.3f}", sc.quality_factor)) + "</tr>\n";
    // Lists go in rows of their own, across the table, so no column grows wide.
    h += "<tr><td colspan=\"11\" class=\"note\">techniques verified: " +
         html_escape(techniques.empty() ? "none" : techniques) + "</td></tr>\n";
    h += fmt::format("<tr><td colspan=\"11\" class=\"{}\">measured: {}</td></tr>\n",
                     v.conditions.contended() ? "flag" : "note", html_escape(v.conditions.describe()));
    for (const auto& s : sub.skipped)
      h += "<tr><td colspan=\"11\" class=\"note\">skipped: " + html_escape(s) + "</td></tr>\n";
    for (const auto& f : v.flags) h += "<tr><td colspan=\"11\" class=\"flag\">flag: " + html_escape(f) + "</td></tr>\n";
    for (const auto& x : v.errors)
      h += "<tr><td colspan=\"11\" class=\"invalid\">invalid: " + html_escape(x) + "</td></tr>\n";
  }
  h += "</table>\n";
  if (eo.ablation.size() > 1) {
    h += "<table><tr><th>ablation step</th><th>adds</th><th>this step</th><th>cumulative</th>" +
         std::string(e.is_classifier() ? "" : "<th>decode step</th><th>decode cumulative</th>") + "</tr>\n";
    for (const AblationStep& s : eo.ablation)
      h += "<tr>" + td(s.label) + td_text(s.added) + td(ratio_text(s.step_speedup)) +
           td(ratio_text(s.cumulative_speedup)) +
           (e.is_classifier() ? "" : td(ratio_text(s.step_decode)) + td(ratio_text(s.cumulative_decode))) + "</tr>\n";
    h += "</table>\n";
  }
  // Latency percentiles per contender.
  std::vector<std::string> labels;
  BarSeries p50{"p50", color(1), {}}, p90{"p90", color(2), {}}, p99{"p99", color(4), {}};
  for (const ReportContender& c : eo.contenders) {
    labels.push_back(c.label);
    p50.values.push_back(c.result.single_stream.p50);
    p90.values.push_back(c.result.single_stream.p90);
    p99.values.push_back(c.result.single_stream.p99);
  }
  h += svg_bar_chart(e.name + ": SingleStream latency percentiles (batch 1)", "time per query (log)", labels,
                     {p50, p90, p99}, true, format_seconds);
  return h;
}

// The rankings of one event (what `tinyopt leaderboard` prints), as a table.
std::string leaderboard_section(const std::string& event_key, const std::vector<LeaderboardEntry>& entries) {
  const Event& e = find_event(event_key);
  std::string h = fmt::format("<h3>{} ({})</h3>\n", html_escape(e.name), e.key);
  if (entries.empty()) return h + "<p class=\"note\">No valid entries yet.</p>\n";
  h += "<p class=\"note\">Best entry per team, recipe and division, measured on a quiet machine.</p>\n"
       "<table><tr><th>#</th><th>division</th>"
       "<th>team</th><th>recipe</th><th>score</th><th>quality</th><th>p90</th><th>p90 speedup</th>"
       "<th>offline speedup</th><th>size reduction</th><th>when (UTC), commit</th></tr>\n";
  int rank = 0;
  for (const LeaderboardEntry& x : entries) {
    std::string when = x.created_at;  // ISO 8601; a space instead of the 'T' lets the cell wrap between date and time
    if (when.size() > 10 && when[10] == 'T') when[10] = ' ';
    h += "<tr>" + td(std::to_string(++rank)) + td(x.division) + td_text(x.team) + td_text(x.recipe) +
         td(fmt::format("{:.1f}", x.score)) + td(quality_text(x.quality_metric, x.quality)) +
         td_quantity(format_seconds(x.latency_p90_s)) + td(ratio_text(x.speedup_latency_p90)) +
         td(ratio_text(x.speedup_offline)) +
         td(ratio_text(x.size_reduction)) + td_text(when + " " + x.git_commit.substr(0, 12)) + "</tr>\n";
  }
  return h + "</table>\n";
}

}  // namespace

std::string render_html_report(const ReportData& out) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<title>TinyMLPerf Olympics report</title>\n<style>" +
                  std::string(kStyle) + "</style></head>\n<body>\n<h1>TinyMLPerf Olympics</h1>\n";
  h += fmt::format("<p>Team <b>{}</b>; machine: {}; total {}, peak resident memory {}.</p>\n",
                   html_escape(out.team), html_escape(out.machine), format_seconds(out.seconds),
                   format_bytes(double(out.peak_rss_bytes)));
  h += "<p class=\"note\">Every speedup is a median of per-round ratios measured interleaved in one process against "
       "the <code>baseline</code> recipe (FP32, naive kernels); quality is recomputed by the harness on held-out data. "
       "Score = 100 x S_latency^0.4 x S_offline^0.3 x R_size^0.2 x R_memory^0.1 x min(1, quality_ratio)^10.</p>\n";

  // Chart 1: cumulative speedup of each ablation step, per event.
  std::vector<std::string> events;
  size_t max_steps = 0;
  for (const ReportEvent& eo : out.events) {
    events.push_back(eo.event->name);
    max_steps = std::max(max_steps, eo.ablation.size());
  }
  std::vector<BarSeries> steps;
  for (size_t k = 1; k < max_steps; ++k) {
    BarSeries s{"", color(k), {}};
    std::string name;
    for (const ReportEvent& eo : out.events) {
      s.values.push_back(k < eo.ablation.size() ? eo.ablation[k].cumulative_speedup : 0);
      if (k < eo.ablation.size() && name.find(eo.ablation[k].label) == std::string::npos)
        name += (name.empty() ? "" : " / ") + eo.ablation[k].label;
    }
    s.name = "step " + std::to_string(k) + ": " + name;
    steps.push_back(s);
  }
  if (!steps.empty())
    h += svg_bar_chart("Cumulative SingleStream speedup over baseline, technique by technique", "speedup (log)", events,
                       steps, true, [](double r) { return fmt::format("{:.1f}x", r); });
  // Chart 2: quality vs size of the submissions.
  std::vector<ScatterPoint> points;
  size_t i = 0;
  for (const ReportEvent& eo : out.events)
    for (const ReportSubmission& sub : eo.submissions)
      points.push_back({double(sub.model_bytes), sub.validation.quality_ratio, eo.event->key + ":" + sub.label,
                        color(++i)});
  h += svg_scatter("Quality vs model size (submissions)", "model size (log)", "quality ratio vs FP32 reference",
                   points);
  for (const ReportEvent& eo : out.events) h += event_section(eo);
  if (!out.leaderboard.empty()) {
    h += "<h2>Leaderboard</h2>\n<p class=\"note\">" + html_escape(out.db_path) + "</p>\n";
    for (const auto& [event, entries] : out.leaderboard) h += leaderboard_section(event, entries);
  }
  return h + "</body></html>\n";
}

std::string render_html_report(const OlympicsOutcome& outcome) { return render_html_report(report_data(outcome)); }

void write_html_report(const OlympicsOutcome& outcome, const std::string& path) {
  write_file_atomic(path, render_html_report(outcome));
}

}  // namespace tinyopt::olympics
