// The Olympics HTML report built from synthetic results that reproduce what
// a real three-event run produces at its most crowded: long ablation-step
// names merged across events, submissions with nearly the same size and
// quality, latencies a few percent apart around 2 ms, long techniques,
// flags and commits. Checked as text (durations in SI units, the leaderboard
// as a table) and laid out in headless Chromium at two window widths, where
// no two pieces of text may overlap and nothing may stick out of the page.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "olympics/event.h"
#include "olympics/report_html.h"
#include "olympics/svg_chart.h"
#include "tests/report_layout.h"

using namespace tinyopt;
using namespace tinyopt::olympics;

namespace {

BenchmarkResult result(double p50, double p90, double p99, int64_t model_bytes) {
  BenchmarkResult r;
  r.single_stream.runs = 64;
  r.single_stream.p50 = p50, r.single_stream.p90 = p90, r.single_stream.p99 = p99;
  r.offline.p50 = p50 * 40;
  r.offline_items = 256;
  r.throughput_unit = "samples/s";
  r.model_bytes = model_bytes;
  r.working_set_bytes = model_bytes / 3;
  r.train_step.p50 = p50 * 90, r.train_batch = 64;
  r.decode.p50 = p50 * 20, r.decode_tokens = 32;
  return r;
}

ReportEvent event(const char* key, const std::vector<std::string>& steps, double base_p50, int64_t base_bytes) {
  ReportEvent e;
  e.event = &find_event(key);
  e.quality_note = "quality computed once per distinct model on held-out data; every backend checked";
  const BenchmarkResult base = result(base_p50, base_p50 * 1.1, base_p50 * 1.3, base_bytes);
  e.contenders.push_back({"baseline", true, base, {1, 1, 1, 1, 1, 1, 1, 1, {}}});
  // The recipe "all" and its ablation steps: 2.19, 2.22 and 2.28 ms are the
  // p50, p90 and p99 whose bar labels ran into each other.
  const BenchmarkResult all = result(2.19e-3, 2.22e-3, 2.28e-3, base_bytes / 4 + 977);
  e.contenders.push_back({"all", true, all, {base_p50 / 2.19e-3, 4, 4, 3.5, 2, 1.5, 3.9, 3.1, {}}});
  e.ablation.push_back({"baseline", "FP32, naive kernels", 0, 1, 1, 1, 1});
  e.ablation.push_back({"kernels", "backend cpu.onednn, all thread(s), 1 at batch 1", 2, 2.1, 2.1, 1.7, 1.7});
  double cumulative = 2.1;
  for (size_t k = 0; k < steps.size(); ++k) {
    cumulative *= 1.6;
    e.ablation.push_back({steps[k], steps[k].substr(1), k + 3, 1.6, cumulative, 1.4, cumulative / 1.2});
  }
  e.contenders.push_back({"all:kernels", false, result(base_p50 / 2.1, base_p50 / 2, base_p50 / 1.9, base_bytes), {}});
  for (size_t k = 0; k + 1 < steps.size(); ++k)
    e.contenders.push_back({"all:" + steps[k], false, result(2.24e-3, 2.25e-3, 2.3e-3, base_bytes / 2), {}});
  e.ablation.back().contender = 1;  // the last step is the recipe itself
  for (const auto& [label, bytes, ratio] : {std::tuple{"baseline", base_bytes, 1.0},
                                            std::tuple{"all", base_bytes + 4096, 0.9994}}) {
    ReportSubmission s;
    s.label = label;
    s.model_bytes = bytes;  // nearly the same size and quality: their labels collided
    s.validation.valid = true;
    s.validation.division = "closed";
    s.validation.quality.value = e.event->is_classifier() ? 0.8887 : 1.1234;
    s.validation.quality.agreement = e.event->is_classifier() ? -1 : 0.998;
    s.validation.quality_ratio = ratio;
    s.validation.techniques = {"backend cpu.onednn", "int8 (per-channel weights, dynamic activations)", "prune 50%",
                               "kv_cache"};
    s.validation.flags = {"SingleStream speedup 12.3x is within 5% of what the measured FP32 peak allows"};
    s.skipped = {"prune: the GPT's attention has no weights to prune at this sparsity"};
    s.score = compute_score({base_p50 / 2.19e-3, 0, 0, 3, 0, 0, 4, 3, {}}, ratio, true);
    e.submissions.push_back(s);
  }
  return e;
}

LeaderboardEntry entry(const std::string& event, const std::string& team, const std::string& recipe, double score) {
  LeaderboardEntry x;
  x.event = event, x.team = team, x.recipe = recipe, x.division = "closed", x.score = score;
  x.quality_metric = event == "gpt" ? "heldout_loss" : "test_accuracy";
  x.quality = event == "gpt" ? 1.1234 : 0.8887;
  x.latency_p50_s = 2.19e-3, x.speedup_latency = 4.4, x.speedup_offline = 3.9, x.size_reduction = 3.99;
  x.created_at = "2026-11-24T03:41:06Z";
  x.git_commit = "fba9a7b3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7";
  return x;
}

ReportData crowded_report() {
  ReportData d;
  d.team = "the-quantization-enthusiasts-of-room-4";
  d.machine = "AMD EPYC 9R14 96-Core Processor | 2 cores | avx2,avx512f,avx512bw,avx512vl,avx512_vnni,avx512_bf16";
  d.db_path = "/home/student/.local/share/tinyopt/leaderboard.sqlite";
  d.seconds = 99.2;
  d.peak_rss_bytes = 416 << 20;
  d.events.push_back(event("mlp", {"+prune", "+int8"}, 9.6e-3, 437000));
  d.events.push_back(event("cnn", {"+prune", "+int8"}, 94e-3, 1600000));
  d.events.push_back(event("gpt", {"+kv_cache", "+int8"}, 1.2, 1000000));
  for (const char* key : {"mlp", "cnn", "gpt"})
    d.leaderboard.push_back({key, {entry(key, d.team, "all", 212.3), entry(key, "blue", "prune-finetune", 180.9),
                                   entry(key, d.team, "baseline", 100)}});
  return d;
}

}  // namespace

TEST(OlympicsReport, DurationsReadInSiUnitsAndTheLeaderboardIsATable) {
  const std::string html = render_html_report(crowded_report());
  EXPECT_NE(html.find("<td>2.19&nbsp;ms</td>"), std::string::npos);  // never wraps between number and unit
  EXPECT_NE(html.find("<td>1.2&nbsp;s</td>"), std::string::npos);
  EXPECT_NE(html.find(">2.19 ms</text>"), std::string::npos);  // a bar's label
  EXPECT_NE(html.find(">100 ms</text>"), std::string::npos);   // a tick of the latency axis
  EXPECT_EQ(html.find("e+0"), std::string::npos) << "a number in scientific notation";
  EXPECT_EQ(html.find("e-0"), std::string::npos) << "a number in scientific notation";
  EXPECT_EQ(html.find("microseconds"), std::string::npos);
  EXPECT_EQ(html.find("<pre"), std::string::npos) << "the leaderboard is a table, not preformatted text";
  const size_t board = html.find("<h2>Leaderboard</h2>");
  ASSERT_NE(board, std::string::npos);
  EXPECT_NE(html.find(">prune-finetune</td>", board), std::string::npos);
  EXPECT_NE(html.find("<td>212.3</td>", board), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(OlympicsReport, NoTextOverlapsAndEverythingFitsInHeadlessChromium) {
  const std::string browser = test::chromium_path();
  if (browser.empty()) GTEST_SKIP() << "chromium not installed (scripts/install_deps.sh --tests installs it)";
  test::ScratchDir dir;
  const std::string report = dir.file("report.html");
  test::write_bytes(report, render_html_report(crowded_report()));
  for (int width : {1280, 900}) {
    const test::LayoutCheck c = test::check_report_layout(browser, report, width);
    ASSERT_EQ(c.error, "");
    EXPECT_GT(c.texts, 300) << "the check measured too little of the page";
    EXPECT_TRUE(c.problems.empty()) << c.problems.size() << " layout problem(s)" << test::join_lines(c.problems);
  }
}

TEST(OlympicsReport, WrappedTextFitsItsWidthAndKeepsEveryCharacter) {
  const std::string name = "step 2: +prune / +kv_cache";
  EXPECT_GT(text_width(name, 11), 26 * 11 * 0.4);  // never narrower than the narrowest glyphs
  EXPECT_GT(text_width("MW", 11, true), text_width("MW", 11));
  for (double max : {40.0, 80.0, 150.0, 1000.0}) {
    const std::vector<std::string> lines = wrap_text(name, 11, max);
    std::string joined;
    for (const std::string& l : lines) {
      EXPECT_TRUE(text_width(l, 11) <= max || l.size() == 1) << "'" << l << "' wider than " << max;
      joined += l;
    }
    std::string squeezed = name;  // spaces at the ends of lines are dropped
    std::erase(squeezed, ' ');
    std::erase(joined, ' ');
    EXPECT_EQ(joined, squeezed);
  }
  EXPECT_EQ(wrap_text(name, 11, 1000).size(), 1u);
  EXPECT_EQ(wrap_text("all:+prune", 12, text_width("+prune", 12) + 1), (std::vector<std::string>{"all:", "+prune"}));
}

TEST(OlympicsReport, CrowdedChartsMoveLabelsToAKeyAndWrapLongNames) {
  // Twelve submissions of the same size and quality: at most eight labels fit around one point.
  std::vector<ScatterPoint> points;
  for (int i = 0; i < 12; ++i) points.push_back({1e6, 0.999, fmt::format("gpt:recipe-{}", i), "#1f77b4"});
  points.push_back({3e4, 0.96, "mlp:all", "#ff7f0e"});
  const std::string scatter = svg_scatter("Quality vs model size", "model size (log)", "quality ratio", points);
  EXPECT_NE(scatter.find("gpt:recipe-11 (1 MB, 0.9990)"), std::string::npos) << "unplaced labels are in the key";
  EXPECT_NE(scatter.find(">mlp:all</text>"), std::string::npos) << "a point with room keeps its label beside it";
  // Ten contenders with long names and five long series names.
  std::vector<std::string> categories;
  for (int i = 0; i < 10; ++i) categories.push_back(fmt::format("all:+prune+int8+kv_cache-{}", i));
  std::vector<BarSeries> series;
  for (int s = 0; s < 5; ++s)
    series.push_back({fmt::format("step {}: +prune / +kv_cache / +int8 (per-channel)", s), "#2ca02c",
                      std::vector<double>(10, 2.19e-3 * (1 + 0.01 * s))});
  const std::string bars = svg_bar_chart("Latency", "time per query (log)", categories, series, true, format_seconds);
  EXPECT_NE(bars.find(">1 ms</text>"), std::string::npos);  // an axis tick
  EXPECT_EQ(bars.find(">2.19 ms</text>"), std::string::npos) << "bars too narrow for a label keep only the tooltip";
  EXPECT_NE(bars.find("= 2.19 ms</title>"), std::string::npos);
  const std::string browser = test::chromium_path();
  if (browser.empty()) GTEST_SKIP() << "chromium not installed (scripts/install_deps.sh --tests installs it)";
  test::ScratchDir dir;
  const std::string page = dir.file("charts.html");
  test::write_bytes(page, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>" + scatter + bars +
                              "</body></html>\n");
  const test::LayoutCheck c = test::check_report_layout(browser, page, 900);
  ASSERT_EQ(c.error, "");
  EXPECT_GT(c.texts, 60);
  EXPECT_TRUE(c.problems.empty()) << c.problems.size() << " layout problem(s)" << test::join_lines(c.problems);
}
