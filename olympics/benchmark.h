// benchmark_model(model, profiler): every scenario of an event measured for
// one or more contenders, on top of the profiler (Timer statistics,
// MemoryProfiler, FLOPCounter, ProfilerContext, an NVTX range per event and
// scenario). Several contenders are measured together, interleaved, so the
// speedups between them (olympics/speedup.h) hold on any machine.
//
// Scenarios (sizes in olympics/event_inputs.h, QuerySizes):
//   SingleStream  batch 1, one query at a time, per-query latency p50/p90/p99;
//                 >= 64 queries and >= 0.25 s measured per contender, and
//                 until each p90's 99% upper confidence bound is within 5% of
//                 it (or the 40 s budget ends). The p90 is the score's metric.
//                 Images: one test image. GPT: 8 greedy tokens after an
//                 8-character held-out prompt (with the recipe's cache setting).
//   Offline       one batch of the recipe's batch_size (images: test images;
//                 GPT: that many prompts generated together): throughput.
//   Memory        tracking allocator: model bytes + the peak working set of
//                 SingleStream and Offline queries.
//   Training      image events: one AdamW step at batch 64 on training images
//                 (FP32: INT8 and pruning are inference techniques), samples/s.
//   Decode        GPT: a 1-token prompt continued by 63 greedy tokens, tokens/s.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "olympics/contender.h"
#include "olympics/event_inputs.h"
#include "olympics/interleaved.h"
#include "profiler/timer.h"

namespace tinyopt::olympics {

// How long each scenario samples (the harness's budget knobs).
InterleaveOptions interleave_options(int warmup, int min_queries, double min_seconds, double max_seconds,
                                     double slice_seconds, double p90_tolerance = 0);

struct BenchmarkProfiler {
  InterleaveOptions single_stream = interleave_options(3, 64, 0.25, 40, 0.01, /*p90_tolerance=*/0.05);
  InterleaveOptions offline = interleave_options(1, 3, 0.2, 20, 0.001);
  InterleaveOptions training = interleave_options(1, 3, 0.2, 20, 0.001);
  InterleaveOptions decode = interleave_options(0, 2, 0.3, 30, 0.001);
  bool nvtx = true;  // a range per event and scenario (free unless Nsight is attached)
  std::function<void(const std::string&)> progress;
};

struct BenchmarkResult {
  std::string label;
  uint64_t run_id = 0;  // results with the same run_id were measured together (interleaved)
  size_t index = 0;     // this contender's position in that run

  TimingStats single_stream;           // seconds per query
  int64_t single_stream_items = 1;     // images or generated tokens per query
  std::vector<double> single_stream_rounds;  // per-round medians (paired speedups)
  TimingStats offline;                 // seconds per batch
  int64_t offline_batch = 0;
  int64_t offline_items = 0;           // images or tokens per batch
  std::vector<double> offline_rounds;
  std::string throughput_unit;         // "samples/s" or "tokens/s"
  double offline_throughput() const { return offline.p50 > 0 ? offline_items / offline.p50 : 0; }

  int64_t model_bytes = 0;
  int64_t working_set_bytes = 0;       // peak live bytes above the start, during queries
  int64_t peak_memory_bytes() const { return model_bytes + working_set_bytes; }

  TimingStats train_step;              // image events (runs == 0 otherwise)
  int64_t train_batch = 0;
  std::vector<double> train_rounds;
  double train_samples_per_s() const { return train_step.p50 > 0 ? train_batch / train_step.p50 : 0; }

  TimingStats decode;                  // GPT (runs == 0 otherwise)
  int64_t decode_tokens = 0;
  std::vector<double> decode_rounds;
  double decode_tokens_per_s() const { return decode.p50 > 0 ? decode_tokens / decode.p50 : 0; }
  size_t kv_cache_bytes = 0;

  // Whether any scenario of this contender ran contended (the worst of them, with its figures).
  MeasurementConditions conditions() const;

  double flops_per_query = 0;                  // images: one batch-1 forward, from the cost formulas
  std::map<std::string, std::string> variants; // op -> variant(s) that ran in a profiled query
  int threads_single_stream = 0, threads_batched = 0;
};

// Measures every contender of one event, interleaved scenario by scenario.
std::vector<BenchmarkResult> benchmark_models(std::vector<Contender*> contenders, const EventInputs& inputs,
                                              const BenchmarkProfiler& profiler);
// One contender alone (its numbers are absolute; speedups need benchmark_models).
BenchmarkResult benchmark_model(Contender& contender, const EventInputs& inputs, const BenchmarkProfiler& profiler);

}  // namespace tinyopt::olympics
