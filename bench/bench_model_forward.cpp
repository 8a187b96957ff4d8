// Forward passes of one model file, nothing else in the loop: the harness to
// run under `perf record` when a model's latency needs explaining (tinyopt
// profile adds its own bookkeeping; this does not). Input: the first test
// images of Fashion-MNIST, batch 1 and 64.
//
//   TINYOPT_BENCH_MODEL=quantized.safetensors OMP_NUM_THREADS=1 build/bench/bench_model_forward
//
// The default model is benchmarks/cnn.safetensors (run from the repository root).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "core/tensor.h"
#include "data/fashion_mnist.h"
#include "models/model_file.h"
#include "nn/model.h"
#include "quant/batch_rows.h"

using namespace tinyopt;

namespace {

void BM_ModelForward(benchmark::State& state) {
  const char* env = std::getenv("TINYOPT_BENCH_MODEL");
  const std::string path = env ? env : "benchmarks/cnn.safetensors";
  nn::Model model = models::load_model(path);
  const Tensor images = load_fashion_mnist().test_images;
  const Tensor input = quant::batch_rows(images, 0, {state.range(0), 1, 28, 28}).clone();
  for (auto _ : state) benchmark::DoNotOptimize(model.forward(input));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetLabel(path);
}
BENCHMARK(BM_ModelForward)->Arg(1)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
