// `tinyopt bench sparse`: where sparse beats dense. For each of the MLP's
// layer shapes (784->128, 128->64, 64->10) and the three together, at batch 1
// and 64, a weight pruned at random to 50..95% sparsity runs as
//   dense:  matmul (cpu.blocked and cpu.onednn, each timed) + bias_add
//   sparse: spmm cpu.blocked (CSR, bias fused)
// Each sparse/dense pair is timed interleaved (Timer::compare: A B, B A, ...)
// and the speedup is the median of per-pair ratios, so drift cancels. "best
// dense" is whichever dense variant has the lower median. The crossover is
// the lowest measured sparsity from which sparse is faster than the best dense
// at every higher sparsity measured.
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/numeric_range.h"
#include "core/ops_nn.h"
#include "core/ops_sparse.h"
#include "core/threads.h"
#include "nn/sparse_linear.h"
#include "profiler/timer.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string sparsities = "0.5,0.6,0.7,0.8,0.9,0.95";
  std::string batches = "1,64";
  double seconds = 0.3;
  bool json = false;
};
Options g_options;

struct Layer {
  int64_t in, out;
  Tensor weight, bias;  // dense (pruned) weight
  nn::SparseLinear sparse;
  Layer(int64_t in_, int64_t out_) : in(in_), out(out_), sparse("bench", in_, out_, true) {}
};

std::vector<double> parse_list(const std::string& text, const char* flag) {
  std::vector<double> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      TINYOPT_CHECK(used == item.size(), "{}: '{}' is not a number", flag, item);
    } catch (const std::logic_error&) {
      fail("{}: '{}' is not a number", flag, item);
    }
  }
  TINYOPT_CHECK(!out.empty(), "{}: empty list", flag);
  return out;
}

const Variant<MatmulArgs>& matmul_variant(const std::string& name) {
  for (const auto& v : ops::matmul.variants())
    if (v.name == name) return v;
  fail("bench sparse: matmul variant {} is not registered", name);
}

void dense_forward(const Variant<MatmulArgs>& v, const Tensor& x, const Layer& l, Tensor& y) {
  MatmulArgs mm{x, l.weight, y, false, true};
  ops::matmul.run_variant(v, mm);
  BiasAddArgs b{y, l.bias, y};
  ops::bias_add(b);
}

void run() {
  const Options& o = g_options;
  const std::vector<double> sparsities = parse_list(o.sparsities, "--sparsities");
  for (double s : sparsities) TINYOPT_CHECK(s >= 0 && s < 1, "--sparsities: {} is outside [0, 1)", s);
  std::vector<int64_t> batches;
  for (double b : parse_list(o.batches, "--batches")) {
    TINYOPT_CHECK(b >= 1 && b <= 65536 && b == double(int64_t(b)), "--batches: {} is not a batch size in 1..65536", b);
    batches.push_back(int64_t(b));
  }
  const auto& blocked = matmul_variant("cpu.blocked");
  const auto& onednn = matmul_variant("cpu.onednn");
  const Variant<SpmmArgs>* spmm_blocked_ptr = nullptr;
  for (const auto& v : ops::spmm.variants())
    if (v.name == "cpu.blocked") spmm_blocked_ptr = &v;
  TINYOPT_CHECK(spmm_blocked_ptr != nullptr, "bench sparse: spmm variant cpu.blocked is not registered");
  const Variant<SpmmArgs>& spmm_blocked = *spmm_blocked_ptr;
  TimerOptions t;
  t.min_seconds = o.seconds;
  t.max_seconds = 4 * o.seconds;
  t.min_runs = 20;
  t.max_runs = 1000000;
  const Timer timer(t);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  auto random_tensor = [&](const Shape& s) {
    Tensor x = Tensor::empty(s, DType::f32);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = uni(rng);
    return x;
  };
  nlohmann::json rows = nlohmann::json::array();
  MeasuredUnder measured;
  if (!o.json)
    std::printf("sparse (spmm cpu.blocked) vs dense (matmul + bias_add), MLP layer shapes, %d threads, interleaved\n"
                "%-14s %5s %8s %10s %10s %10s %9s %9s\n",
                num_threads(), "layer", "batch", "sparsity", "sparse us", "blocked us", "onednn us", "x onednn",
                "x best");
  const std::pair<int64_t, int64_t> shapes[] = {{784, 128}, {128, 64}, {64, 10}};
  for (int64_t batch : batches) {
    for (double s : sparsities) {
      std::vector<std::unique_ptr<Layer>> layers;
      for (auto [in, out] : shapes) {
        auto l = std::make_unique<Layer>(in, out);
        l->weight = random_tensor({out, in});
        l->bias = random_tensor({out});
        float* w = l->weight.data<float>();
        std::bernoulli_distribution drop(s);
        for (int64_t i = 0; i < l->weight.numel(); ++i)
          if (drop(rng)) w[i] = 0.0f;
        l->sparse.set_dense(l->weight);
        l->sparse.bias.value.copy_from(l->bias);
        layers.push_back(std::move(l));
      }
      // Each layer alone, then the three in sequence (the MLP's linear work).
      for (int which = 0; which <= 3; ++which) {
        const size_t first = which == 3 ? 0 : size_t(which), last = which == 3 ? 3 : size_t(which) + 1;
        const Tensor x = random_tensor({batch, layers[first]->in});
        std::vector<Tensor> ys;
        for (size_t i = first; i < last; ++i) ys.push_back(Tensor::empty({batch, layers[i]->out}, DType::f32));
        auto dense = [&](const Variant<MatmulArgs>& v) {
          return [&, vp = &v] {
            Tensor in = x;
            for (size_t i = first; i < last; ++i) {
              dense_forward(*vp, in, *layers[i], ys[i - first]);
              in = ys[i - first];
            }
          };
        };
        // Both sides write into preallocated outputs through the dispatcher's direct path (run_variant),
        // so the comparison is kernel against kernel; the CSR was checked once, when it was built.
        std::vector<SpmmArgs> sparse_args;
        for (size_t i = first; i < last; ++i) {
          const nn::SparseLinear& sl = layers[i]->sparse;
          sparse_args.push_back({i == first ? x : ys[i - first - 1], sl.row_ptr(), sl.col_idx(), sl.values.value,
                                 sl.bias.value, ys[i - first], /*structure_checked=*/true});
        }
        auto sparse = [&] {
          for (const SpmmArgs& a : sparse_args) ops::spmm.run_variant(spmm_blocked, a);
        };
        const Comparison vs_onednn = timer.compare(dense(onednn), sparse);
        const Comparison vs_blocked = timer.compare(dense(blocked), sparse);
        measured.add(vs_onednn.a);
        measured.add(vs_blocked.a);
        const bool onednn_best = vs_onednn.a.p50 <= vs_blocked.a.p50;
        const double x_best = onednn_best ? vs_onednn.speedup() : vs_blocked.speedup();
        const std::string name = which == 3 ? "mlp (3 layers)"
                                            : fmt::format("{}->{}", layers[first]->in, layers[first]->out);
        rows.push_back({{"layer", name}, {"batch", batch}, {"sparsity", s},
                        {"sparse_us", vs_onednn.b.p50 * 1e6}, {"dense_blocked_us", vs_blocked.a.p50 * 1e6},
                        {"dense_onednn_us", vs_onednn.a.p50 * 1e6}, {"speedup_vs_onednn", vs_onednn.speedup()},
                        {"speedup_vs_blocked", vs_blocked.speedup()}, {"speedup_vs_best_dense", x_best},
                        {"best_dense", onednn_best ? "cpu.onednn" : "cpu.blocked"},
                        {"conditions", worse(vs_onednn.a.conditions, vs_blocked.a.conditions).to_json()}});
        if (!o.json)
          std::printf("%-14s %5lld %7.0f%% %10.2f %10.2f %10.2f %8.2fx %8.2fx\n", name.c_str(), (long long)batch,
                      100 * s, vs_onednn.b.p50 * 1e6, vs_blocked.a.p50 * 1e6, vs_onednn.a.p50 * 1e6,
                      vs_onednn.speedup(), x_best);
      }
    }
  }
  // Crossover per (layer, batch): the lowest sparsity from which every measured point is a win.
  nlohmann::json crossovers = nlohmann::json::array();
  std::map<std::pair<std::string, int64_t>, std::vector<std::pair<double, double>>> curves;
  for (const auto& r : rows)
    curves[{r["layer"].get<std::string>(), r["batch"].get<int64_t>()}].push_back(
        {r["sparsity"].get<double>(), r["speedup_vs_best_dense"].get<double>()});
  if (!o.json) std::printf("crossover (sparse faster than the best dense from this sparsity up):\n");
  for (auto& [key, curve] : curves) {
    std::sort(curve.begin(), curve.end());
    double crossover = -1;
    for (size_t i = curve.size(); i-- > 0;) {
      if (curve[i].second <= 1.0) break;
      crossover = curve[i].first;
    }
    crossovers.push_back({{"layer", key.first}, {"batch", key.second},
                          {"crossover_sparsity", crossover < 0 ? nlohmann::json() : nlohmann::json(crossover)}});
    if (!o.json) {
      if (crossover < 0) std::printf("  %-14s batch %3lld: none in the measured range\n", key.first.c_str(), (long long)key.second);
      else std::printf("  %-14s batch %3lld: %.0f%%\n", key.first.c_str(), (long long)key.second, 100 * crossover);
    }
  }
  if (o.json)
    print_json({{"threads", num_threads()}, {"results", rows}, {"crossover", crossovers},
                {"conditions", measured.worst().to_json()}, {"machine", machine_json()}});
  else
    std::printf("%s\n", measured.line().c_str());
}

}  // namespace

CLI::App* add_bench_sparse_command(CLI::App& bench) {
  CLI::App* sub = bench.add_subcommand("sparse", "Sparse (CSR spmm) vs dense matmul crossover on the MLP's layers");
  sub->add_option("--sparsities", g_options.sparsities, "Comma list of sparsities in [0, 1)")->capture_default_str();
  sub->add_option("--batches", g_options.batches, "Comma list of batch sizes")->capture_default_str();
  sub->add_option("--seconds", g_options.seconds, "Minimum measured time per comparison")->capture_default_str()
      ->check(finite_range(0.01, 60.0));
  sub->add_flag("--json", g_options.json, "Print JSON");
  return sub;
}

void run_bench_sparse() { run(); }

}  // namespace tinyopt::cli
