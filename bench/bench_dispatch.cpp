// Dispatch overhead: the same 1x1x1 matmul through OptimizedBackend vs a
// direct call of the kernel. The difference is what routing costs per op
// call (validation, device check, explicit-choice lookup, supports()).
//
//   build/bench/bench_dispatch --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "backends/cpu/cpu_kernels.h"
#include "core/dispatcher.h"
#include "core/ops.h"

using namespace tinyopt;

namespace {

MatmulArgs one_by_one() {
  Tensor a = Tensor::zeros({1, 1}, DType::f32), b = Tensor::zeros({1, 1}, DType::f32);
  return MatmulArgs{a, b, Tensor::zeros({1, 1}, DType::f32)};
}

// The raw kernel on raw pointers: no tensors, no routing.
void BM_DirectKernel_1x1(benchmark::State& state) {
  MatmulArgs args = one_by_one();
  const float* a = args.a.data<float>();
  const float* b = args.b.data<float>();
  float* c = args.c.data<float>();
  for (auto _ : state) {
    cpu::matmul_naive_f32(a, b, c, 1, 1, 1, false, false);
    benchmark::DoNotOptimize(c);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_DirectKernel_1x1);

// The variant's run() on MatmulArgs: tensor unpacking but no routing.
void BM_VariantRun_1x1(benchmark::State& state) {
  MatmulArgs args = one_by_one();
  for (auto _ : state) {
    cpu::matmul_naive_run(args);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_VariantRun_1x1);

// Full dispatch with an explicit per-op choice (the same kernel runs).
void BM_Dispatch_Explicit_1x1(benchmark::State& state) {
  OptimizedBackend::instance().set_choice("matmul=cpu.naive");
  MatmulArgs args = one_by_one();
  for (auto _ : state) {
    ops::matmul(args);
    benchmark::ClobberMemory();
  }
  OptimizedBackend::instance().clear_choices();
}
BENCHMARK(BM_Dispatch_Explicit_1x1);

// Full dispatch with automatic routing (walks the priority list; the
// chosen variant here is whatever automatic routing picks for 1x1).
void BM_Dispatch_Auto_1x1(benchmark::State& state) {
  OptimizedBackend::instance().clear_choices();
  MatmulArgs args = one_by_one();
  state.SetLabel(ops::matmul.select(args, Device::cpu())->name);
  for (auto _ : state) {
    ops::matmul(args);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Dispatch_Auto_1x1);

}  // namespace

BENCHMARK_MAIN();
