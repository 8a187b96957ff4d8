// The matmul ladder in Google Benchmark form: every CPU variant at square
// sizes and the MLP's skinny layer, reporting FLOP/s. (`tinyopt bench matmul`
// prints the same ladder with speedups and percent of peak.)
//
//   OMP_NUM_THREADS=2 build/bench/bench_matmul --benchmark_filter='1024'
#include <benchmark/benchmark.h>

#include <random>

#include "core/dispatcher.h"
#include "core/ops.h"
#include "kernels/matmul.h"

using namespace tinyopt;

namespace {

void run_variant(benchmark::State& state, const char* variant) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Tensor a = Tensor::empty({m, k}, DType::f32), b = Tensor::empty({k, n}, DType::f32);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = dist(rng);
  for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] = dist(rng);
  MatmulArgs args{a, b, Tensor::empty({m, n}, DType::f32)};
  OptimizedBackend::instance();
  const auto& variants = ops::matmul.variants();
  const auto it = std::find_if(variants.begin(), variants.end(), [&](const auto& v) { return v.name == variant; });
  if (it == variants.end()) {
    state.SkipWithError("variant not registered");
    return;
  }
  for (auto _ : state) ops::matmul.run_variant(*it, args);
  state.counters["FLOP/s"] =
      benchmark::Counter(kernels::matmul_cost(m, n, k).flops * double(state.iterations()), benchmark::Counter::kIsRate);
}

void square_and_skinny(benchmark::internal::Benchmark* b) {
  for (int64_t s : {64, 256, 512, 1024, 2048}) b->Args({s, s, s});
  b->Args({1, 784, 128});
  b->Args({64, 784, 128});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void naive_sizes(benchmark::internal::Benchmark* b) {
  for (int64_t s : {64, 256, 512, 1024}) b->Args({s, s, s});
  b->Args({1, 784, 128});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void BM_Matmul_Naive(benchmark::State& s) { run_variant(s, "cpu.naive"); }
void BM_Matmul_Blocked(benchmark::State& s) { run_variant(s, "cpu.blocked"); }
void BM_Matmul_OneDNN(benchmark::State& s) { run_variant(s, "cpu.onednn"); }
BENCHMARK(BM_Matmul_Naive)->Apply(naive_sizes);
BENCHMARK(BM_Matmul_Blocked)->Apply(square_and_skinny);
BENCHMARK(BM_Matmul_OneDNN)->Apply(square_and_skinny);

}  // namespace

BENCHMARK_MAIN();
