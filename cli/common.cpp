#include <cstdio>
#include <iostream>

#include "backends/cpu/cpu_info.h"
#include "cli/commands.h"
#include "core/device_runtime.h"
#include "core/dispatcher.h"
#include "core/threads.h"

namespace tinyopt::cli {

namespace {
GlobalOptions g_options;
}

void apply_global_options(const GlobalOptions& options) {
  g_options = options;
  OptimizedBackend& backend = OptimizedBackend::instance();
  if (!options.backend.empty()) backend.set_choice(options.backend);
  if (options.strict) backend.set_strict(true);
  if (options.log_dispatch) backend.set_debug(true);
  if (options.threads > 0) set_num_threads(options.threads);
}

const GlobalOptions& global_options() { return g_options; }

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
