// `tinyopt bench qgemm` and `tinyopt bench qconv`: INT8 kernels next to the
// FP32 ones they replace, at the same shapes. qgemm: every qgemm variant
// against FP32 matmul cpu.blocked and cpu.onednn (y = x W^T, the Linear layer
// form, u8 output with fused ReLU); qconv: qconv2d against conv2d on the
// CNN's layers at batch 1 and 64. Each row is the median over --rounds
// rounds; within a round every contender is measured once in turn
// (interleaved), so drift of a shared machine hits all of them alike.
// GOPS = 2 * multiply-adds / median time for both FP32 and INT8; speedups
// are FP32 time / INT8 time (so > 1 means INT8 is faster).
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "cli/bench_lists.h"
#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/numeric_range.h"
#include "conformance/conformance.h"
#include "conformance/quant_cases.h"
#include "core/dispatcher.h"
#include "core/ops_nn.h"
#include "core/ops_quant.h"
#include "core/threads.h"
#include "kernels/conv2d.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string sizes = "1024,1x784x128,64x784x128,1x128x64,64x128x64,1x64x10,64x64x10";
  std::string batches = "1,64";
  int rounds = 5;
  double seconds = 0.1;   // per measurement (one contender, one round)
  double naive_max_macs = 2e8;  // cpu.naive int8 only below this (scalar: ~1 GMAC/s)
  bool json = false;
};
Options g_options;

// The matmul sizes plus qgemm's own limit on K (the exact i32 accumulators).
std::vector<MatmulShape> parse_sizes(const std::string& text) {
  std::vector<MatmulShape> shapes = parse_matmul_sizes(text);
  for (const MatmulShape& s : shapes)
    TINYOPT_CHECK(s.k <= 65536, "--sizes: '{}': K above 65536 could overflow int8's i32 accumulators", s.str());
  return shapes;
}

std::vector<int64_t> parse_batches(const std::string& text) {
  return parse_int_list(text, "--batches", 1, 1024, "batch size", "1,64");
}

// FP32 conv2d with bias, for timing only (no reference).
conformance::OpCase conv2d_f32_case(int64_t n, int64_t c, int64_t hw, int64_t o, int64_t k) {
  const kernels::Conv2dDims d = kernels::conv2d_dims(n, c, hw, hw, o, k, k, 1, 1, 0, 0);
  conformance::OpCase oc;
  oc.op = "conv2d";
  oc.label = fmt::format("x=[{},{},{},{}] w=[{},{},{},{}]", n, c, hw, hw, o, c, k, k);
  oc.op_object = &ops::conv2d;
  oc.inputs = {{Shape{n, c, hw, hw}, DType::f32}, {Shape{o, c, k, k}, DType::f32}, {Shape{o}, DType::f32}};
  oc.outputs = {{Shape{n, o, d.oh, d.ow}, DType::f32}};
  oc.invoke = conformance::make_invoke(ops::conv2d, [](std::vector<Tensor>& t) {
    return Conv2dArgs{t[0], t[1], t[2], t[3], Conv2dGeometry{}};
  });
  oc.cost = kernels::conv2d_cost(d, true);
  return oc;
}

// One contender: a case and one of its variants.
struct Contender {
  std::string kind;  // "fp32" or "int8"
  const conformance::OpCase* c;
  VariantInfo variant;
  std::vector<double> seconds;  // one median per round
  std::string skipped;          // why it was not timed
  double median() const {
    std::vector<double> s = seconds;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : s[s.size() / 2];
  }
};

VariantInfo variant_named(const conformance::OpCase& c, const std::string& name) {
  for (const VariantInfo& v : conformance::case_variants(c))
    if (v.name == name) return v;
  return {name, DeviceType::cpu, -1};
}

// Times every contender `rounds` times, interleaved.
void measure(std::vector<Contender>& contenders, const Options& o, MeasuredUnder& measured) {
  TimerOptions t;
  t.warmup = 1;
  t.min_runs = 3;
  t.min_seconds = o.seconds;
  t.max_seconds = std::max(2.0, o.seconds * 5);
  for (int round = 0; round < o.rounds; ++round)
    for (Contender& x : contenders) {
      if (!x.skipped.empty()) continue;
      if (x.variant.priority < 0) {
        x.skipped = "not registered";
        continue;
      }
      const conformance::PerfResult r = conformance::perf_case(*x.c, x.variant, t, 1 + round);
      if (r.outcome != conformance::Outcome::pass) {
        x.skipped = fmt::format("{}: {}", conformance::outcome_name(r.outcome), r.message);
        continue;
      }
      x.seconds.push_back(r.stats.p50);
      measured.add(r.stats);
    }
}

// Prints (or collects) the rows of one shape; speedups against FP32 cpu.blocked and the best FP32.
void report(const std::string& shape, const std::vector<Contender>& contenders, double flops, int threads,
            nlohmann::json& results, bool json) {
  double fp32_blocked = 0, fp32_best = 0;
  for (const Contender& x : contenders) {
    if (x.kind != "fp32" || x.seconds.empty()) continue;
    if (x.variant.name == "cpu.blocked") fp32_blocked = x.median();
    if (fp32_best == 0 || x.median() < fp32_best) fp32_best = x.median();
  }
  for (const Contender& x : contenders) {
    nlohmann::json j = {{"shape", shape}, {"op", x.c->op}, {"type", x.kind}, {"variant", x.variant.name},
                        {"threads", threads}};
    if (x.seconds.empty()) {
      j["skipped"] = x.skipped;
      if (!json) std::printf("%-22s %-5s %-8s %-12s %10s   (%s)\n", shape.c_str(), x.kind.c_str(), x.c->op.c_str(),
                             x.variant.name.c_str(), "-", x.skipped.c_str());
    } else {
      const double s = x.median(), gops = flops / s * 1e-9;
      j["median_ms"] = s * 1e3;
      j["rounds"] = x.seconds.size();
      j["gops"] = gops;
      if (fp32_blocked > 0) j["speedup_vs_fp32_blocked"] = fp32_blocked / s;
      if (fp32_best > 0) j["speedup_vs_fp32_best"] = fp32_best / s;
      if (!json)
        std::printf("%-22s %-5s %-8s %-12s %10.4f %9.1f %9s %9s\n", shape.c_str(), x.kind.c_str(), x.c->op.c_str(),
                    x.variant.name.c_str(), s * 1e3, gops,
                    fp32_blocked > 0 ? fmt::format("{:.2f}x", fp32_blocked / s).c_str() : "-",
                    fp32_best > 0 ? fmt::format("{:.2f}x", fp32_best / s).c_str() : "-");
    }
    results.push_back(j);
  }
  if (!json) std::printf("\n");
}

// The conditions line (or the JSON document) that ends a run.
void finish_bench(const char* name, int threads, const nlohmann::json& results, const MeasuredUnder& measured,
                  bool json) {
  if (json)
    print_json({{"bench", name}, {"machine", machine_json()}, {"threads", threads},
                {"conditions", measured.worst().to_json()}, {"results", results}});
  else
    std::printf("%s\n", measured.line().c_str());
}

void print_header(const char* what, int threads, const Options& o) {
  std::printf("%s: %d thread(s); median of %d interleaved rounds (each >= %.2f s of runs)\n", what, threads, o.rounds,
              o.seconds);
  std::printf("speedup = FP32 time / this time (FP32 cpu.blocked; best FP32 variant)\n\n");
  std::printf("%-22s %-5s %-8s %-12s %10s %9s %9s %9s\n", "shape", "type", "op", "variant", "median ms", "GOPS",
              "x blocked", "x best");
}

}  // namespace

void run_bench_qgemm() {
  const Options& o = g_options;
  const std::vector<MatmulShape> shapes = parse_sizes(o.sizes);
  OptimizedBackend::instance();
  const int threads = num_threads();
  nlohmann::json results = nlohmann::json::array();
  MeasuredUnder measured;
  if (!o.json) print_header("qgemm (INT8, u8 x s8 -> u8 + ReLU) vs matmul (FP32), y = x W^T", threads, o);
  for (const MatmulShape& s : shapes) {
    const conformance::OpCase fp32 = conformance::matmul_case(s.m, s.n, s.k, false, true);
    const conformance::OpCase int8 =
        conformance::qgemm_case(s.m, s.n, s.k, 3, true, conformance::QuantOutSpec{DType::u8, 0, true});
    std::vector<Contender> cs;
    for (const char* v : {"cpu.blocked", "cpu.onednn"}) cs.push_back({"fp32", &fp32, variant_named(fp32, v), {}, ""});
    for (const char* v : {"cpu.naive", "cpu.blocked", "cpu.onednn"}) cs.push_back({"int8", &int8, variant_named(int8, v), {}, ""});
    if (double(s.m) * s.n * s.k > o.naive_max_macs) cs[2].skipped = "naive skipped above --naive-max-macs";
    measure(cs, o, measured);
    report(fmt::format("{}x{}x{}", s.m, s.k, s.n), cs, 2.0 * s.m * s.n * s.k, threads, results, o.json);
  }
  finish_bench("qgemm", threads, results, measured, o.json);
}

void run_bench_qconv() {
  const Options& o = g_options;
  const std::vector<int64_t> batches = parse_batches(o.batches);
  OptimizedBackend::instance();
  const int threads = num_threads();
  nlohmann::json results = nlohmann::json::array();
  MeasuredUnder measured;
  if (!o.json) print_header("qconv2d (INT8, u8 x s8 -> u8 + ReLU) vs conv2d (FP32 + bias), the CNN's layers", threads, o);
  struct Layer {
    int64_t c, hw, o, k;
  };
  for (const Layer& l : {Layer{1, 28, 32, 3}, Layer{32, 13, 64, 3}})
    for (int64_t n : batches) {
      const conformance::OpCase fp32 = conv2d_f32_case(n, l.c, l.hw, l.o, l.k);
      const conformance::OpCase int8 = conformance::qconv2d_case(n, l.c, l.hw, l.hw, l.o, l.k, 1, 0, 0, true,
                                                                 conformance::QuantOutSpec{DType::u8, 0, true});
      std::vector<Contender> cs;
      for (const char* v : {"cpu.blocked", "cpu.onednn"}) cs.push_back({"fp32", &fp32, variant_named(fp32, v), {}, ""});
      for (const char* v : {"cpu.naive", "cpu.blocked", "cpu.onednn"})
        cs.push_back({"int8", &int8, variant_named(int8, v), {}, ""});
      const int64_t out = (l.hw - l.k + 1);
      const double macs = double(n) * l.o * out * out * l.c * l.k * l.k;
      if (macs > o.naive_max_macs) cs[2].skipped = "naive skipped above --naive-max-macs";
      measure(cs, o, measured);
      report(fmt::format("{}->{} k{} {}x{} b{}", l.c, l.o, l.k, l.hw, l.hw, n), cs, 2.0 * macs, threads, results,
             o.json);
    }
  finish_bench("qconv", threads, results, measured, o.json);
}

std::pair<CLI::App*, CLI::App*> add_bench_quant_commands(CLI::App& bench) {
  Options& o = g_options;
  CLI::App* qgemm = bench.add_subcommand("qgemm", "INT8 qgemm variants next to FP32 matmul at the same shapes");
  qgemm->add_option("--sizes", o.sizes, "Comma list of N (square) or MxKxN shapes (batch x in x out)")
      ->capture_default_str();
  CLI::App* qconv = bench.add_subcommand("qconv", "INT8 qconv2d variants next to FP32 conv2d on the CNN's layers");
  qconv->add_option("--batches", o.batches, "Comma list of batch sizes")->capture_default_str();
  for (CLI::App* app : {qgemm, qconv}) {
    app->add_option("--rounds", o.rounds, "Interleaved rounds (the median is reported)")
        ->capture_default_str()
        ->check(CLI::Range(1, 101));
    app->add_option("--seconds", o.seconds, "Minimum measured time per contender and round")
        ->capture_default_str()
        ->check(finite_range(0.0, 30.0));
    app->add_option("--naive-max-macs", o.naive_max_macs, "Skip int8 cpu.naive above this many multiply-adds")
        ->capture_default_str()
        ->check(finite_range(0.0, 1e12));
    app->add_flag("--json", o.json, "Print JSON");
  }
  return {qgemm, qconv};
}

}  // namespace tinyopt::cli
