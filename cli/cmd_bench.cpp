// `tinyopt bench matmul`: Module 15's "show the journey" — every matmul
// variant on the same shapes, from the naive triple loop to the library, as
// median time, GFLOP/s, speedup over cpu.naive and percent of this machine's
// measured FP32 peak. Cases come from the conformance table's perf mode.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "cli/bench_lists.h"
#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/numeric_range.h"
#include "conformance/conformance.h"
#include "core/dispatcher.h"
#include "core/ops.h"
#include "core/threads.h"
#include "profiler/machine_peak.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string sizes = "64,128,256,512,1024,2048,1x784x128,64x784x128";
  std::string variants;  // comma list filter; empty = all
  int64_t naive_max = 1024;
  double seconds = 0.3;
  bool json = false;
};

bool wanted(const Options& o, const std::string& name) {
  if (o.variants.empty()) return true;
  std::stringstream items(o.variants);
  std::string item;
  while (std::getline(items, item, ','))
    if (item == name) return true;
  return false;
}

void run_bench_matmul(const Options& o) {
  const std::vector<MatmulShape> shapes = parse_matmul_sizes(o.sizes);
  OptimizedBackend::instance();
  if (!o.variants.empty()) {
    std::stringstream items(o.variants);
    std::string item;
    while (std::getline(items, item, ','))
      TINYOPT_CHECK(ops::matmul.find_variant(item) >= 0 || item == "auto",
                    "--variants: unknown matmul variant '{}'", item);
  }
  const int threads = num_threads();
  const double peak = measure_fp32_peak_gflops(threads);
  nlohmann::json results = nlohmann::json::array();
  if (!o.json) {
    std::printf("matmul ladder: %d thread(s); FP32 roof %.1f GFLOP/s measured now (%d x one core's %s FMA peak: no "
                "kernel can exceed it)\n",
                threads, peak, threads, fp32_peak_isa());
    std::printf("median of repeated runs (warm-up first); speedup = cpu.naive time / variant time\n\n");
    std::printf("%-16s %-26s %12s %10s %10s %8s  %s\n", "M x K x N", "variant", "median ms", "GFLOP/s", "x naive",
                "% peak", "measured");
  }
  MeasuredUnder measured;
  for (const MatmulShape& s : shapes) {
    const conformance::OpCase c = conformance::matmul_case(s.m, s.n, s.k, false, false);
    double naive_seconds = 0, best_seconds = 0;
    std::string best_name;
    struct Row {
      std::string variant;
      conformance::PerfResult r;
    };
    std::vector<Row> rows;
    for (const VariantInfo& v : conformance::case_variants(c)) {
      if (!wanted(o, v.name)) continue;
      conformance::PerfResult r;
      if (v.name == "cpu.naive" && double(s.m) * s.n * s.k > double(o.naive_max) * o.naive_max * o.naive_max) {
        r.outcome = conformance::Outcome::skipped;
        r.message = fmt::format("larger than --naive-max {}", o.naive_max);
      } else {
        TimerOptions t;
        t.warmup = 1;
        t.min_runs = 3;
        t.min_seconds = o.seconds;
        t.max_seconds = std::max(3.0, o.seconds * 5);
        r = conformance::perf_case(c, v, t);
      }
      if (r.outcome == conformance::Outcome::pass) {
        if (v.name == "cpu.naive") naive_seconds = r.stats.p50;
        if (best_seconds == 0 || r.stats.p50 < best_seconds) {
          best_seconds = r.stats.p50;
          best_name = v.name;
        }
      }
      rows.push_back({v.name, r});
    }
    // Automatic routing: time the dispatcher itself and name what it picked.
    std::string auto_pick;
    if (wanted(o, "auto")) {
      Tensor a = Tensor::zeros({s.m, s.k}, DType::f32), b = Tensor::zeros({s.k, s.n}, DType::f32);
      MatmulArgs args{a, b, Tensor::empty({s.m, s.n}, DType::f32)};
      const auto* picked = ops::matmul.select(args, Device::cpu());
      auto_pick = picked ? picked->name : "none";
      TimerOptions t;
      t.warmup = 1;
      t.min_runs = 3;
      t.min_seconds = o.seconds;
      conformance::PerfResult r;
      r.cost = c.cost;
      r.stats = Timer(t).measure([&] { ops::matmul(args); });
      rows.push_back({"auto -> " + auto_pick, r});
    }
    for (const Row& row : rows) {
      const auto& r = row.r;
      nlohmann::json j = {{"m", s.m}, {"k", s.k}, {"n", s.n}, {"variant", row.variant},
                          {"outcome", conformance::outcome_name(r.outcome)}, {"threads", threads}};
      if (r.outcome != conformance::Outcome::pass) {
        j["reason"] = r.message;
        if (!o.json) std::printf("%-16s %-26s %12s   (%s: %s)\n", s.str().c_str(), row.variant.c_str(), "-",
                                 conformance::outcome_name(r.outcome), r.message.c_str());
      } else {
        const double speedup = naive_seconds > 0 ? naive_seconds / r.stats.p50 : 0;
        j["median_ms"] = r.stats.p50 * 1e3;
        j["p90_ms"] = r.stats.p90 * 1e3;
        j["runs"] = r.stats.runs;
        j["gflops"] = r.gflops();
        j["percent_of_peak"] = 100.0 * r.gflops() / peak;
        j["conditions"] = r.stats.conditions.to_json();
        measured.add(r.stats);
        if (speedup > 0) j["speedup_vs_naive"] = speedup;
        if (!o.json) {
          std::printf("%-16s %-26s %12.3f %10.2f %10s %7.1f%%  %s\n", s.str().c_str(), row.variant.c_str(),
                      r.stats.p50 * 1e3, r.gflops(), speedup > 0 ? fmt::format("{:.1f}x", speedup).c_str() : "-",
                      100.0 * r.gflops() / peak, verdict_name(r.stats.conditions.verdict));
        }
      }
      results.push_back(j);
    }
    if (!o.json && !auto_pick.empty() && best_seconds > 0) {
      const auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.variant == auto_pick; });
      if (it != rows.end() && it->r.outcome == conformance::Outcome::pass) {
        std::printf("%-16s auto picks %s: %.0f%% of the fastest (%s)\n", "", auto_pick.c_str(),
                    100.0 * best_seconds / it->r.stats.p50, best_name.c_str());
      }
    }
    if (!o.json) std::printf("\n");
  }
  if (!o.json) std::printf("%s\n", measured.line().c_str());
  if (o.json) {
    print_json({{"bench", "matmul"},
                {"conditions", measured.worst().to_json()},
                {"machine", machine_json()},
                {"threads", threads},
                {"fp32_peak_gflops", peak},
                {"peak_method", std::string(fp32_peak_isa()) +
                                    " FMA register loop: threads x the best single-core burst, or the best "
                                    "all-thread burst when higher"},
                {"results", results}});
  }
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (the speedup ladder)");
  bench->require_subcommand(1);
  bench->fallthrough();
  CLI::App* matmul = bench->add_subcommand("matmul", "Every matmul variant side by side: ms, GFLOP/s, x naive, % peak");
  static Options options;
  matmul->add_option("--sizes", options.sizes, "Comma list of N (square) or MxKxN shapes")->capture_default_str();
  matmul->add_option("--variants", options.variants, "Only these variants (comma list; 'auto' = the dispatcher)");
  matmul->add_option("--naive-max", options.naive_max, "Skip cpu.naive above this cube size (it is slow)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  matmul->add_option("--seconds", options.seconds, "Minimum measured time per variant and size")
      ->capture_default_str()
      ->check(finite_range(0.0, 60.0));
  matmul->add_flag("--json", options.json, "Print JSON");
  CLI::App* generate = add_bench_generate_command(*bench);
  CLI::App* sparse = add_bench_sparse_command(*bench);
  const std::pair<CLI::App*, CLI::App*> quant = add_bench_quant_commands(*bench);
  CLI::App* qgemm = quant.first;
  CLI::App* qconv = quant.second;
  return {bench, [matmul, generate, sparse, qgemm, qconv] {
            if (matmul->parsed()) run_bench_matmul(options);
            if (generate->parsed()) run_bench_generate();
            if (sparse->parsed()) run_bench_sparse();
            if (qgemm->parsed()) run_bench_qgemm();
            if (qconv->parsed()) run_bench_qconv();
          }};
}

}  // namespace tinyopt::cli
