// Profiler overhead on CNN inference (the reference CNN, random weights):
// batch 1 and batch 64, with no profiler and with an active ProfilerContext
// (every op and layer recorded, NVTX ranges when built with NVTX).
//
// The *_Off/_On pairs are ordinary Google Benchmarks. BM_CnnOverhead measures
// the same thing side by side with Timer::compare (on, off, off, on, ...),
// which cancels machine drift, and reports the median per-pair overhead
// (t_on / t_off - 1) as `overhead_pct` (the number docs/BENCHMARKS.md quotes).
//
//   build/bench/bench_profiler_overhead --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <ctime>
#include <memory>

#include "core/ops.h"
#include "nn/model.h"
#include "nn/reference_models.h"
#include "profiler/profiler_context.h"
#include "profiler/timer.h"

using namespace tinyopt;

namespace {

struct Cnn {
  nn::Model model;
  Tensor input;
  explicit Cnn(int64_t batch) {
    nn::Rng rng(7);
    model = nn::build_model(nn::cnn_config(), &rng);
    input = Tensor::empty({batch, 1, 28, 28}, DType::f32);
    nn::init_uniform(input, 1.0, rng);
  }
};

// A long run would record millions of events: start over every 256 forwards
// (inside the timed loop, so the clearing is paid for too).
constexpr int kClearEvery = 256;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_CnnInference_Off(benchmark::State& state) {
  Cnn cnn(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(cnn.model.forward(cnn.input));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CnnInference_Off)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_CnnInference_On(benchmark::State& state) {
  Cnn cnn(state.range(0));
  ProfilerContext prof;
  int n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cnn.model.forward(cnn.input));
    if (++n % kClearEvery == 0) prof.clear();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CnnInference_On)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_CnnOverhead(benchmark::State& state) {
  Cnn cnn(state.range(0));
  TimerOptions options;
  options.min_runs = 200;
  options.min_seconds = 1.0;
  options.max_seconds = 10.0;
  options.max_runs = 100000;
  // One context for the whole comparison, switched in and out with the
  // observer hook itself (one atomic store), so neither side pays for
  // creating or destroying it.
  ProfilerContext prof;
  int n = 0;
  Comparison c;
  // Arg 1 picks the clock: wall time, or this process's CPU time, which a
  // shared machine's other jobs cannot inflate (a preempted process accrues none).
  const Clock clock = state.range(1) == 0 ? Clock(steady_seconds) : Clock(process_cpu_seconds);
  for (auto _ : state) {
    c = Timer(options, clock).compare(
        [&] {
          dispatch_observer_install(&prof);
          benchmark::DoNotOptimize(cnn.model.forward(cnn.input));
          if (++n % kClearEvery == 0) prof.clear();
        },
        [&] {
          dispatch_observer_install(nullptr);
          benchmark::DoNotOptimize(cnn.model.forward(cnn.input));
        });
  }
  dispatch_observer_install(&prof);  // so its destructor uninstalls it cleanly
  // ratio = t_on / t_off per pair.
  state.counters["off_p50_us"] = c.b.p50 * 1e6;
  state.counters["on_p50_us"] = c.a.p50 * 1e6;
  state.counters["overhead_pct"] = 100.0 * (c.ratio.p50 - 1.0);
  state.counters["overhead_p90_pct"] = 100.0 * (c.ratio.p90 - 1.0);
  state.counters["ratio_iqr_pct"] = 100.0 * c.ratio.iqr;
  state.counters["pairs"] = c.ratio.runs;
}
// What the hooks alone cost (layer names built, OpShapes captured, cost
// formulas evaluated, virtual calls) with an observer that records nothing:
// the part of the overhead that is not the ProfilerContext's bookkeeping.
class NullObserver final : public DispatchObserver {
 public:
  int64_t op_begin(const OpCallInfo&) override { return 0; }
  void op_end(int64_t) override {}
  int64_t layer_begin(const char*, const std::string&) override { return 0; }
  void layer_end(int64_t) override {}
};

void BM_CnnHooksOnly(benchmark::State& state) {
  Cnn cnn(state.range(0));
  TimerOptions options;
  options.min_runs = 200;
  options.min_seconds = 1.0;
  options.max_seconds = 10.0;
  options.max_runs = 100000;
  NullObserver null;
  Comparison c;
  for (auto _ : state) {
    c = Timer(options, Clock(process_cpu_seconds))
            .compare(
                [&] {
                  dispatch_observer_install(&null);
                  benchmark::DoNotOptimize(cnn.model.forward(cnn.input));
                },
                [&] {
                  dispatch_observer_install(nullptr);
                  benchmark::DoNotOptimize(cnn.model.forward(cnn.input));
                });
  }
  dispatch_observer_install(nullptr);
  state.counters["overhead_pct"] = 100.0 * (c.ratio.p50 - 1.0);
  state.counters["pairs"] = c.ratio.runs;
}
BENCHMARK(BM_CnnHooksOnly)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

// The per-event cost in isolation: a 1x1 matmul dispatched with the profiler
// off and on, and an empty layer scope with it on.
void BM_Matmul1x1(benchmark::State& state) {
  MatmulArgs args{Tensor::zeros({1, 1}, DType::f32), Tensor::zeros({1, 1}, DType::f32), Tensor::zeros({1, 1}, DType::f32)};
  std::unique_ptr<ProfilerContext> prof;
  if (state.range(0) != 0) prof = std::make_unique<ProfilerContext>();
  int n = 0;
  for (auto _ : state) {
    ops::matmul(args);
    if (prof && ++n % 4096 == 0) prof->clear();
  }
}
BENCHMARK(BM_Matmul1x1)->Arg(0)->Arg(1);

void BM_LayerScope(benchmark::State& state) {
  std::unique_ptr<ProfilerContext> prof;
  if (state.range(0) != 0) prof = std::make_unique<ProfilerContext>();
  int n = 0;
  for (auto _ : state) {
    { LayerScope scope("conv2d", "0:conv2d"); }
    if (prof && ++n % 4096 == 0) prof->clear();
  }
}
BENCHMARK(BM_LayerScope)->Arg(0)->Arg(1);

BENCHMARK(BM_CnnOverhead)
    ->ArgsProduct({{1, 64}, {0, 1}})
    ->ArgNames({"batch", "cpu_clock"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
