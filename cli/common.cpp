#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "core/cpu_info.h"
#include "cli/commands.h"
#include "core/device_runtime.h"
#include "core/dispatcher.h"
#include "core/threads.h"
#include "data/text_corpus.h"
#include "io/limits.h"
#include "profiler/measurement_conditions.h"
#include "nn/char_tokenizer.h"

namespace tinyopt::cli {

namespace {
GlobalOptions g_options;
}

// A --backend naming CUDA variants on a CUDA build whose GPU is missing at run
// time: tensors stay on the CPU, so CPU variants run. Say so once (not once
// per op), or refuse in strict mode.
static void warn_if_cuda_choice_cannot_run(const std::string& spec) {
  bool names_cuda = false;
  for (const OpBase* op : OptimizedBackend::instance().ops()) {
    const auto infos = op->variant_infos();
    names_cuda |= op->chosen() >= 0 && infos[static_cast<size_t>(op->chosen())].device == DeviceType::cuda;
  }
  if (!names_cuda) return;
  const std::string why = cuda_unusable_reason();
  if (why.empty()) return;
  TINYOPT_CHECK(!OptimizedBackend::instance().strict(),
                "--backend {}: CUDA variants cannot run ({}) and strict mode forbids running on the CPU", spec, why);
  std::fprintf(stderr, "tinyopt: --backend %s: no CUDA device is usable (%s); every op runs on the CPU\n", spec.c_str(),
               why.c_str());
}

// Threads: --threads, else OMP_NUM_THREADS, else the cores other processes
// leave free right now. OpenMP threads wait at every barrier for a teammate
// that another process has descheduled, so on a busy machine fewer threads
// finish sooner and measure honestly.
static void choose_threads(int requested, bool probe_free_cores) {
  const int cores = hardware_threads();
  if (requested > 0) {
    if (requested > cores)
      std::fprintf(stderr, "tinyopt: warning: --threads %d on %d CPUs: threads will share cores and wait for each "
                   "other, so timings will be slow and noisy\n", requested, cores);
    set_num_threads(requested);
    set_default_threads(requested);
    return;
  }
  if (const char* env = std::getenv("OMP_NUM_THREADS"); env != nullptr && *env != '\0') {
    set_default_threads(num_threads());  // OpenMP read it at start-up
    return;
  }
  if (!probe_free_cores) return;
  const double busy = cores_busy_elsewhere(0.1);
  if (busy < 0) return;  // no /proc/stat: keep every core
  const int threads = threads_for_free_cores(busy);
  if (threads < cores)
    std::fprintf(stderr, "tinyopt: other processes keep %.1f of %d cores busy: using %d thread(s) (--threads N to "
                 "choose)\n", busy, cores, threads);
  set_num_threads(threads);
  set_default_threads(threads);
}

void apply_global_options(const GlobalOptions& options, bool probe_free_cores) {
  g_options = options;
  OptimizedBackend& backend = OptimizedBackend::instance();
  if (options.strict) backend.set_strict(true);
  if (!options.backend.empty()) {
    backend.set_choice(options.backend);
    warn_if_cuda_choice_cannot_run(options.backend);
  }
  if (options.log_dispatch) backend.set_debug(true);
  choose_threads(options.threads, probe_free_cores);
  for (const std::string& spec : options.limits) set_limits(parse_limits(spec, limits(), "--limit"));
}

const GlobalOptions& global_options() { return g_options; }

Tensor fashion_mnist_for(const nn::Model& model, const Tensor& images, const std::string& path) {
  TINYOPT_CHECK(model.sample_numel() == 784, "{}: input_shape {} does not take 28x28 Fashion-MNIST images", path,
                Shape(model.input_shape).str());
  return images.reshape(model.batch_shape(images.size(0)));
}

Tensor heldout_tokens_for(const nn::Model& model) {
  const TextCorpus corpus = load_text_corpus();
  // The held-out text must be expressible in the model's vocabulary (the tokenizer says which character is not).
  const std::vector<int32_t> ids = nn::CharTokenizer(model.vocab).encode(corpus.heldout_text);
  Tensor tokens = Tensor::empty({static_cast<int64_t>(ids.size())}, DType::i32);
  std::copy(ids.begin(), ids.end(), tokens.data<int32_t>());
  return tokens;
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

nlohmann::json machine_json() {
  const auto& cpu = cpu::cpu_info();
  return {{"cpu", cpu.model_name},
          {"logical_cpus", cpu.logical_cpus},
          {"isa", cpu.isa_summary()},
          {"l1d_bytes", cpu.l1d_bytes},
          {"l2_bytes", cpu.l2_bytes},
          {"l3_bytes", cpu.l3_bytes},
          {"threads", num_threads()},
          {"cuda_devices", device_count(DeviceType::cuda)},
          {"tinyopt_version", TINYOPT_VERSION}};
}

}  // namespace tinyopt::cli
