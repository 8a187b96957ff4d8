#include "olympics/benchmark.h"

#include <atomic>
#include <cstring>

#include "core/error.h"
#include "core/ops_nn.h"
#include "core/threads.h"
#include "models/model_file.h"
#include "nn/generate.h"
#include "nn/optim.h"
#include "profiler/flop_counter.h"
#include "profiler/memory_profiler.h"
#include "profiler/nvtx.h"
#include "profiler/profiler_context.h"

namespace tinyopt::olympics {

namespace {

std::atomic<uint64_t> g_next_run{1};

// An NVTX range for a scope (no-op without NVTX or without an attached tool).
struct NvtxRange {
  explicit NvtxRange(const std::string& name, bool on) : on_(on) {
    if (on_) nvtx::push_layer(name);
  }
  ~NvtxRange() {
    if (on_) nvtx::pop();
  }
  bool on_;
};

// The first `n` images of `all` [N, 1, 28, 28], shaped for the model.
Tensor image_batch(const nn::Model& model, const Tensor& all, int64_t first, int64_t n) {
  TINYOPT_CHECK(first + n <= all.size(0), "image batch {}..{} beyond the {} images", first, first + n, all.size(0));
  Tensor x = Tensor::empty(model.batch_shape(n), DType::f32);
  const size_t row = 784 * sizeof(float);
  std::memcpy(x.raw_data(), static_cast<const char*>(all.raw_data()) + first * row, size_t(n) * row);
  return x;
}

Tensor label_batch(const Tensor& all, int64_t first, int64_t n) {
  Tensor y = Tensor::empty({n}, all.dtype());
  const size_t row = all.nbytes() / size_t(all.size(0));
  std::memcpy(y.raw_data(), static_cast<const char*>(all.raw_data()) + first * row, size_t(n) * row);
  return y;
}

// A training step of an FP32 copy of the contender's model file: forward,
// cross-entropy, backward, AdamW. INT8 and pruning change inference only; the
// step is the same dense work a masked fine-tuning step costs.
struct TrainState {
  nn::Model model;
  std::unique_ptr<nn::AdamW> optimizer;
  std::vector<Tensor> x, y;
  size_t next = 0;
  void step() {
    const size_t i = next++ % x.size();
    model.module->zero_grad();
    Tensor logits = model.forward(x[i]);
    CrossEntropyArgs args{logits, y[i], Tensor::empty({1}, DType::f32), Tensor::empty(logits.shape(), DType::f32)};
    ops::cross_entropy(args);
    TINYOPT_CHECK(std::isfinite(args.loss.data<float>()[0]), "training step: loss is not finite");
    model.module->backward(args.dlogits);
    optimizer->step();
  }
};

struct Queries {
  std::function<void()> single_stream, offline, train, decode;
  int64_t single_stream_items = 1, offline_items = 0, train_batch = 0, decode_tokens = 0;
  std::function<size_t()> kv_cache_bytes;
};

Queries classifier_queries(Contender& c, const EventInputs& in) {
  Queries q;
  nn::Model& model = c.prepared.model;
  const FashionMnist& data = *in.images;
  auto singles = std::make_shared<std::vector<Tensor>>();
  for (int64_t i = 0; i < in.sizes.single_stream_images; ++i) singles->push_back(image_batch(model, data.test_images, i, 1));
  auto next = std::make_shared<size_t>(0);
  q.single_stream = [&model, singles, next] { model.forward((*singles)[(*next)++ % singles->size()]); };
  const int64_t batch = std::min<int64_t>(c.settings.batch_size, data.test_images.size(0));
  auto xb = std::make_shared<Tensor>(image_batch(model, data.test_images, 0, batch));
  q.offline = [&model, xb] { model.forward(*xb); };
  q.offline_items = batch;

  auto train = std::make_shared<TrainState>();
  train->model = models::load_model(c.prepared.model_path);
  train->model.module->set_training(true);
  train->optimizer = std::make_unique<nn::AdamW>(train->model.module->parameters(), 1e-4);
  const int64_t tb = in.sizes.train_batch;
  for (int64_t i = 0; i < 4; ++i) {
    train->x.push_back(image_batch(train->model, data.train_images, i * tb, tb));
    train->y.push_back(label_batch(data.train_labels, i * tb, tb));
  }
  q.train = [train] { train->step(); };
  q.train_batch = tb;
  return q;
}

Queries gpt_queries(Contender& c, const EventInputs& in) {
  Queries q;
  nn::GPT& gpt = c.prepared.model.gpt();
  const bool cache = c.prepared.kv_cache;
  const QuerySizes& s = in.sizes;
  auto prompts = std::make_shared<std::vector<std::vector<int32_t>>>(in.prompts(64, s.gpt_prompt));
  auto next = std::make_shared<size_t>(0);
  nn::GenerateOptions one;
  one.max_new_tokens = s.gpt_new_tokens;
  one.use_cache = cache;
  q.single_stream = [&gpt, prompts, next, one] {
    const std::vector<std::vector<int32_t>> p = {(*prompts)[(*next)++ % prompts->size()]};
    nn::generate(gpt, p, one);
  };
  q.single_stream_items = s.gpt_new_tokens;
  const int64_t batch = std::min<int64_t>(c.settings.batch_size, 64);
  auto batched = std::make_shared<std::vector<std::vector<int32_t>>>(prompts->begin(), prompts->begin() + batch);
  q.offline = [&gpt, batched, one] { nn::generate(gpt, *batched, one); };
  q.offline_items = batch * s.gpt_new_tokens;

  nn::GenerateOptions dec;
  dec.max_new_tokens = s.decode_positions - 1;
  dec.use_cache = cache;
  auto cache_bytes = std::make_shared<size_t>(0);
  const std::vector<std::vector<int32_t>> first = {{in.prompts(1, 1)[0][0]}};
  q.decode = [&gpt, dec, first, cache_bytes] { *cache_bytes = nn::generate(gpt, first, dec).cache_bytes; };
  q.decode_tokens = dec.max_new_tokens;
  q.kv_cache_bytes = [cache_bytes] { return *cache_bytes; };
  return q;
}

// One profiled query (not timed): which kernels ran, and the batch-1 FLOPs.
void profile_one_query(Contender& c, Queries& q, const Event& event, const EventInputs& in, BenchmarkResult& r) {
  {
    ProfilerContext prof(ProfilerOptions{.nvtx = false, .sync_cuda = true});
    q.single_stream();
    prof.stop();
    for (const ProfileRow& row : prof.key_averages()) {
      if (!row.is_op) continue;
      std::string& v = r.variants[row.name];
      if (v.find(row.variant) == std::string::npos) v += (v.empty() ? "" : ",") + row.variant;
    }
  }
  if (event.is_classifier()) {
    Tensor x = image_batch(c.prepared.model, in.images->test_images, 0, 1);
    r.flops_per_query = count_ops(c.prepared.model, x).total.flops;
  }
}

std::vector<Contestant> contestants(const std::vector<Contender*>& cs, const std::vector<Queries>& qs,
                                    std::function<void()> Queries::*query, bool single_stream) {
  std::vector<Contestant> out;
  for (size_t i = 0; i < cs.size(); ++i) {
    Contender* c = cs[i];
    out.push_back({c->label,
                   [c, single_stream](const std::function<void()>& slice) {
                     const ContenderScope scope = single_stream ? c->single_stream_scope() : c->batched_scope();
                     slice();
                   },
                   qs[i].*query});
  }
  return out;
}

InterleaveOptions with_progress(InterleaveOptions o, const BenchmarkProfiler& p) {
  o.progress = p.progress;
  return o;
}

}  // namespace

InterleaveOptions interleave_options(int warmup, int min_queries, double min_seconds, double max_seconds,
                                     double slice_seconds, double p90_tolerance) {
  InterleaveOptions o;
  o.p90_tolerance = p90_tolerance;
  o.warmup = warmup;
  o.min_queries = min_queries;
  o.min_seconds = min_seconds;
  o.max_seconds = max_seconds;
  o.slice_seconds = slice_seconds;
  return o;
}

std::vector<BenchmarkResult> benchmark_models(std::vector<Contender*> cs, const EventInputs& in,
                                              const BenchmarkProfiler& p) {
  TINYOPT_CHECK(!cs.empty() && in.event, "benchmark_models: no contenders or no event");
  const Event& event = *in.event;
  const uint64_t run_id = g_next_run.fetch_add(1);
  NvtxRange event_range("olympics:" + event.key, p.nvtx);
  std::vector<Queries> qs;
  std::vector<BenchmarkResult> rs(cs.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    qs.push_back(event.is_classifier() ? classifier_queries(*cs[i], in) : gpt_queries(*cs[i], in));
    BenchmarkResult& r = rs[i];
    r.label = cs[i]->label;
    r.run_id = run_id;
    r.index = i;
    r.model_bytes = model_bytes(cs[i]->prepared.model);
    r.single_stream_items = qs[i].single_stream_items;
    r.offline_items = qs[i].offline_items;
    r.offline_batch = event.is_classifier() ? qs[i].offline_items : qs[i].offline_items / in.sizes.gpt_new_tokens;
    r.throughput_unit = event.is_classifier() ? "samples/s" : "tokens/s";
  }
  auto say = [&](const std::string& line) {
    if (p.progress) p.progress(line);
  };

  // Which kernels ran, FLOPs, and memory: one profiled pass per contender (not timed).
  for (size_t i = 0; i < cs.size(); ++i) {
    Contender& c = *cs[i];
    {
      const ContenderScope scope = c.single_stream_scope();
      rs[i].threads_single_stream = num_threads();
      profile_one_query(c, qs[i], event, in, rs[i]);
    }
    MemoryProfiler mem({Device::cpu()});
    {
      const ContenderScope scope = c.single_stream_scope();
      for (int k = 0; k < 3; ++k) qs[i].single_stream();
    }
    {
      const ContenderScope scope = c.batched_scope();
      rs[i].threads_batched = num_threads();
      qs[i].offline();
    }
    const std::vector<MemoryReport>& reports = mem.stop();
    rs[i].working_set_bytes = reports.empty() ? 0 : reports[0].peak_increase();
  }

  {
    NvtxRange range("SingleStream", p.nvtx);
    say(fmt::format("  {}: SingleStream (batch 1, >= {} queries each, interleaved)", event.name,
                    p.single_stream.min_queries));
    const InterleavedResult r = measure_interleaved(
        contestants(cs, qs, &Queries::single_stream, true), with_progress(p.single_stream, p));
    for (size_t i = 0; i < cs.size(); ++i) {
      rs[i].single_stream = r.stats[i];
      rs[i].single_stream_rounds = r.round_medians[i];
    }
  }
  {
    NvtxRange range("Offline", p.nvtx);
    say(fmt::format("  {}: Offline (batch {}, interleaved)", event.name, rs[0].offline_batch));
    const InterleavedResult r =
        measure_interleaved(contestants(cs, qs, &Queries::offline, false), with_progress(p.offline, p));
    for (size_t i = 0; i < cs.size(); ++i) {
      rs[i].offline = r.stats[i];
      rs[i].offline_rounds = r.round_medians[i];
    }
  }
  if (event.is_classifier()) {
    NvtxRange range("Training", p.nvtx);
    say(fmt::format("  {}: training steps (batch {}, interleaved)", event.name, in.sizes.train_batch));
    const InterleavedResult r =
        measure_interleaved(contestants(cs, qs, &Queries::train, false), with_progress(p.training, p));
    for (size_t i = 0; i < cs.size(); ++i) {
      rs[i].train_step = r.stats[i];
      rs[i].train_rounds = r.round_medians[i];
      rs[i].train_batch = qs[i].train_batch;
    }
  } else {
    NvtxRange range("Decode", p.nvtx);
    say(fmt::format("  {}: decode ({} tokens after a 1-token prompt, interleaved)", event.name,
                    in.sizes.decode_positions - 1));
    // Decoding is sequential per token: single-stream threads.
    const InterleavedResult r =
        measure_interleaved(contestants(cs, qs, &Queries::decode, true), with_progress(p.decode, p));
    for (size_t i = 0; i < cs.size(); ++i) {
      rs[i].decode = r.stats[i];
      rs[i].decode_rounds = r.round_medians[i];
      rs[i].decode_tokens = qs[i].decode_tokens;
      rs[i].kv_cache_bytes = qs[i].kv_cache_bytes();
    }
  }
  return rs;
}

BenchmarkResult benchmark_model(Contender& contender, const EventInputs& inputs, const BenchmarkProfiler& profiler) {
  return benchmark_models({&contender}, inputs, profiler)[0];
}

MeasurementConditions BenchmarkResult::conditions() const {
  MeasurementConditions c;
  bool first = true;
  for (const TimingStats* t : {&single_stream, &offline, &train_step, &decode}) {
    if (t->runs == 0) continue;
    c = first ? t->conditions : worse(c, t->conditions);
    first = false;
  }
  return c;
}

}  // namespace tinyopt::olympics
