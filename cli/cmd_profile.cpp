// `tinyopt profile --model FILE`: where the time of one forward pass goes.
// Runs the model on real data (Fashion-MNIST test images, or held-out text
// for the GPT) under the profiler and prints the per-op/per-layer table, the
// top bottleneck, a roofline verdict per op against this machine's measured
// peaks, the memory profile, and optionally a Chrome trace.

#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "cli/output_path.h"
#include "core/device_runtime.h"
#include "core/threads.h"
#include "data/fashion_mnist.h"
#include "data/text_corpus.h"
#include "models/model_file.h"
#include "nn/char_tokenizer.h"
#include "nn/model.h"
#include "profiler/flop_counter.h"
#include "profiler/memory_profiler.h"
#include "profiler/nvtx.h"
#include "profiler/profiler_context.h"
#include "profiler/timer.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string model, trace, device = "cpu";
  int64_t batch = 0;    // 0: 64 images, or 1 sequence for the GPT
  int64_t seq_len = 0;  // GPT: tokens per sequence (0 = the model's block_size)
  int runs = 10, warmup = 3;
  bool json = false, refresh_peaks = false;
};

// The first `batch` Fashion-MNIST test images, shaped for the model.
Tensor image_input(const nn::Model& model, int64_t batch, const std::string& path) {
  const FashionMnist data = load_fashion_mnist();
  const Tensor all = fashion_mnist_for(model, data.test_images, path);
  TINYOPT_CHECK(batch <= all.size(0), "--batch {} exceeds the {} Fashion-MNIST test images", batch, all.size(0));
  Tensor x = Tensor::empty(model.batch_shape(batch), DType::f32);
  std::memcpy(x.raw_data(), all.raw_data(), x.nbytes());
  return x;
}

// `batch` consecutive windows of held-out text as token ids [batch, T].
Tensor text_input(const nn::Model& model, int64_t batch, int64_t seq_len) {
  const nn::GPTConfig& c = const_cast<nn::Model&>(model).gpt().config();
  const int64_t t = seq_len > 0 ? seq_len : c.block_size;
  TINYOPT_CHECK(t <= c.block_size, "--seq-len {} exceeds the model's block_size {}", t, c.block_size);
  const Tensor tokens = heldout_tokens_for(model);
  TINYOPT_CHECK(tokens.numel() >= batch * t, "held-out text has {} tokens, need {} x {}", tokens.numel(), batch, t);
  Tensor x = Tensor::empty({batch, t}, DType::i32);
  std::memcpy(x.raw_data(), tokens.raw_data(), x.nbytes());
  return x;
}

// Moves the weights to `device` (a tied GPT head follows its embedding).
void move_model(nn::Model& model, Device device) {
  if (device.is_cpu()) return;
  for (nn::Parameter* p : model.module->parameters()) p->value = p->value.to(device);
  if (model.kind == nn::ModelKind::gpt && model.gpt().tied()) model.gpt().lm_head.value = model.gpt().wte.weight.value;
}

void run_profile(const Options& o) {
  if (!o.trace.empty()) check_output_path("--trace", o.trace, ".json", {o.model});
  const Device device = usable_device_or_cpu(parse_device(o.device), "profile --device " + o.device);
  nn::Model model = models::load_model(o.model);
  const bool gpt = model.kind == nn::ModelKind::gpt;
  const int64_t batch = o.batch > 0 ? o.batch : (gpt ? 1 : 64);
  Tensor input = gpt ? text_input(model, batch, o.seq_len) : image_input(model, batch, o.model);
  move_model(model, device);
  input = input.to(device);
  const int threads = num_threads();
  const MachinePeaks peaks =
      device.is_cuda() ? cuda_machine_peaks(device.index, machine_cache_path(), o.refresh_peaks)
                       : machine_peaks(threads, machine_cache_path(), o.refresh_peaks);

  // The unprofiled time first (warm-up included), for the overhead line.
  TimerOptions t;
  t.warmup = o.warmup;
  t.min_runs = t.max_runs = o.runs;
  t.min_seconds = 0;
  t.device = device;
  const TimingStats plain = Timer(t).measure([&] { model.forward(input); });
  const FlopReport work = count_ops(model, input);

  ProfilerContext prof;
  std::vector<MemoryReport> memory;
  // An NVTX range around the profiled runs only, for nsys --capture-range=nvtx
  // (docs/PROFILING.md); the warm-up and the plain timing stay outside it.
  nvtx::push_layer("profiled runs");
  try {
    MemoryProfiler mem;
    for (int r = 0; r < o.runs; ++r) {
      LayerScope scope("model", "forward");  // its self time is the glue between layers
      model.forward(input);
    }
    device_synchronize(device);
    memory = mem.stop();
    nvtx::pop();
  } catch (const std::exception& e) {
    nvtx::pop();
    prof.stop();
    if (o.trace.empty()) fail("the model failed during the profiled run: {}", e.what());
    prof.export_chrome_trace(o.trace, false, e.what());
    fail("the model failed during the profiled run: {}; the partial trace in {} is marked incomplete "
         "(otherData.complete = false)",
         e.what(), o.trace);
  }
  prof.stop();
  if (!o.trace.empty()) prof.export_chrome_trace(o.trace);

  // Per-run times of the profiled passes (the "forward" scopes), summarised
  // like the plain ones: a shared machine's stalls move the mean, not the median.
  std::vector<double> runs;
  for (const ProfileEvent& e : prof.events())
    if (!e.is_op && e.label == "forward" && e.depth == 0) runs.push_back(static_cast<double>(e.duration_ns()) * 1e-9);
  const TimingStats profiled = summarize(runs);
  const int64_t rss = process_peak_rss_bytes();
  if (o.json) {
    nlohmann::json mem = nlohmann::json::array();
    for (const MemoryReport& m : memory)
      mem.push_back({{"device", m.device.str()}, {"allocated_bytes", m.allocated_bytes},
                     {"allocation_count", m.allocation_count}, {"peak_bytes", m.peak_bytes},
                     {"peak_increase_bytes", m.peak_increase()}, {"left_alive", m.leaks.size()},
                     {"left_alive_bytes", m.leaked_bytes()}});
    nlohmann::json j = {{"model", o.model},
                        {"arch", gpt ? "gpt" : "sequential"},
                        {"batch", batch},
                        {"input", input.describe()},
                        {"device", device.str()},
                        {"runs", o.runs},
                        {"forward_without_profiler", timing_json(plain)},
                        {"forward_profiled", timing_json(profiled)},
                        {"flops_per_forward", work.total.flops},
                        {"bytes_per_forward", work.total.bytes},
                        {"profile", prof.to_json(&peaks)},
                        {"memory", mem},
                        {"peak_rss_bytes", rss},
                        {"conditions", plain.conditions.to_json()},
                        {"machine", machine_json()}};
    if (!plain.warning.empty()) j["warning"] = plain.warning;
    if (!o.trace.empty()) j["trace"] = o.trace;
    print_json(j);
    return;
  }
  std::printf("tinyopt profile: %s (%s), input %s from %s, %s, %d thread(s), %d profiled runs after %d warm-up\n",
              o.model.c_str(), gpt ? "gpt" : "sequential", input.describe().c_str(),
              gpt ? "held-out fortunes text" : "Fashion-MNIST test images", device.str().c_str(), threads, o.runs,
              o.warmup);
  std::printf("Forward without profiler: %s, mean %.4f ms\n", format_timing(plain).c_str(), plain.mean * 1e3);
  if (plain.conditions.contended())  // a roofline verdict from a stalled run would blame the kernels
    std::printf("  %s\n", plain.conditions.describe().c_str());
  std::printf("Forward under the profiler: p50 %.4f ms, mean %.4f ms (%+.1f%% at the median)\n", profiled.p50 * 1e3,
              profiled.mean * 1e3, plain.p50 > 0 ? 100 * (profiled.p50 / plain.p50 - 1) : 0.0);
  if (!plain.warning.empty()) std::fprintf(stderr, "tinyopt: warning: %s\n", plain.warning.c_str());
  std::printf("Work per forward (cost formulas): %.4f GFLOP, %.2f MB moved, %.2f FLOP/B\n\n", work.total.flops * 1e-9,
              work.total.bytes * 1e-6, work.total.intensity());
  std::fputs(prof.table(&peaks).c_str(), stdout);
  std::printf("\n%s\n\n", prof.bottleneck(&peaks).c_str());
  const std::string when = peaks.from_cache ? "on " + peaks.measured_at + ", " + peaks.cache_note : peaks.cache_note;
  std::printf("Roofline: %.1f GFLOP/s and %.1f GB/s measured (ridge %.2f FLOP/B) %s\n  how: %s\n",
              peaks.fp32_gflops, peaks.bandwidth_gbs, peaks.ridge_intensity(), when.c_str(), peaks.method.c_str());
  std::fputs(prof.roofline_report(peaks).c_str(), stdout);
  std::printf("\nMemory over the profiled runs:\n");
  for (const MemoryReport& m : memory) std::printf("  %s\n", format_memory_report(m).c_str());
  std::printf("  process peak RSS: %s\n", format_bytes(double(rss)).c_str());
  if (!o.trace.empty()) std::printf("\nTrace: wrote %s (open in https://ui.perfetto.dev)\n", o.trace.c_str());
}

}  // namespace

Command add_profile_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "profile", "Per-op and per-layer time, FLOPs, bytes and roofline verdicts of a model's forward pass");
  static Options o;
  sub->add_option("-m,--model", o.model, "Model file (.safetensors)")->required();
  sub->add_option("-b,--batch-size,--batch", o.batch, "Batch size (default 64 images, or 1 sequence for the GPT)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000}));
  sub->add_option("--seq-len", o.seq_len, "GPT: tokens per sequence (default: the model's block_size)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  sub->add_option("--runs", o.runs, "Profiled forward passes")->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--warmup", o.warmup, "Unprofiled warm-up passes")->capture_default_str()->check(CLI::Range(0, 100000));
  sub->add_option("--device", o.device, "cpu, cuda or cuda:N (weights and input are moved there)")
      ->capture_default_str();
  sub->add_option("--trace", o.trace, "Write a Chrome trace JSON here (atomically; open in Perfetto)");
  sub->add_flag("--refresh-peaks", o.refresh_peaks, "Re-measure the machine's peaks instead of using the cache");
  sub->add_flag("--json", o.json, "Print JSON");
  sub->footer("The kernel choice is the global --backend option, e.g. `tinyopt profile --model m.safetensors "
              "--backend cpu.naive`.");
  return {sub, [] { run_profile(o); }};
}

}  // namespace tinyopt::cli
