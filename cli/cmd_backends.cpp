// `tinyopt backends`: what this build and machine can run, and what the
// dispatcher would choose for each op.
#include <cstdio>

#include "core/cpu_info.h"
#include "cli/commands.h"
#include "core/device_runtime.h"
#include "core/dispatcher.h"
#include "core/threads.h"

namespace tinyopt::cli {

namespace {

// The variant automatic routing prefers on the CPU (highest priority), or the explicit choice.
std::string chosen_for(const OpBase& op, DeviceType device) {
  const auto infos = op.variant_infos();
  if (op.chosen() >= 0 && infos[op.chosen()].device == device) return infos[op.chosen()].name + " (explicit)";
  for (const auto& v : infos)
    if (v.device == device) return v.name + " (auto, highest priority that supports the call)";
  return device == DeviceType::cuda ? "cpu fallback" : "none";
}

void run_backends(bool json) {
  OptimizedBackend& backend = OptimizedBackend::instance();
  const auto& cpu = cpu::cpu_info();
  const int cuda_devices = device_count(DeviceType::cuda);
  const bool cuda_built = device_runtime(DeviceType::cuda) != nullptr;
  nlohmann::json ops = nlohmann::json::array();
  for (const OpBase* op : backend.ops()) {
    nlohmann::json variants = nlohmann::json::array();
    for (const auto& v : op->variant_infos())
      variants.push_back({{"name", v.name}, {"device", device_type_name(v.device)}, {"priority", v.priority}});
    ops.push_back({{"op", op->name()},
                   {"variants", variants},
                   {"cpu_choice", chosen_for(*op, DeviceType::cpu)},
                   {"cuda_choice", chosen_for(*op, DeviceType::cuda)},
                   {"cpu_fallbacks", op->fallback_count()}});
  }
  if (json) {
    nlohmann::json j = {{"machine", machine_json()},
                        {"cuda_built", cuda_built},
                        {"choice", backend.choice_summary()},
                        {"cpu_isa_flavour", cpu::simd_isa_name(cpu::simd_isa())},
                        {"strict", backend.strict()},
                        {"ops", ops}};
    print_json(j);
    return;
  }
  std::printf("tinyopt %s\n\n", TINYOPT_VERSION);
  std::printf("Devices\n");
  std::printf("  cpu      %s, %d logical CPUs, %d OpenMP threads\n", cpu.model_name.c_str(), cpu.logical_cpus,
              num_threads());
  std::printf("           ISA: %s\n", cpu.isa_summary().c_str());
  std::printf("           kernels use the %s flavour (TINYOPT_SIMD=avx2 or base lowers it; INT8 VNNI paths also need "
              "avx512_vnni)\n", cpu::simd_isa_name(cpu::simd_isa()));
  std::printf("           caches: L1d %zu KiB, L2 %zu KiB, L3 %zu KiB (per core L1/L2, from sysfs)\n",
              cpu.l1d_bytes / 1024, cpu.l2_bytes / 1024, cpu.l3_bytes / 1024);
  if (!cuda_built) {
    std::printf("  cuda     not built (no nvcc at configure time, or -DTINYOPT_CUDA=OFF)\n");
  } else if (cuda_devices == 0) {
    std::printf("  cuda     built, but no CUDA device is usable: CUDA variants are registered and never chosen\n");
    std::printf("           %s\n", device_runtime(DeviceType::cuda)->runtime_summary().c_str());
  } else {
    const DeviceRuntime* rt = device_runtime(DeviceType::cuda);
    std::printf("  cuda     %d device(s); %s\n", cuda_devices, rt->runtime_summary().c_str());
    for (int i = 0; i < cuda_devices; ++i) std::printf("           cuda:%d %s\n", i, rt->describe(i).c_str());
  }
  std::printf("\nRouting: %s%s\n\n", backend.choice_summary().c_str(), backend.strict() ? " (strict)" : "");
  std::printf("%-10s %-14s %-6s %8s\n", "op", "variant", "device", "priority");
  for (const auto& entry : ops) {
    bool first = true;
    for (const auto& v : entry["variants"]) {
      std::printf("%-10s %-14s %-6s %8d\n", first ? entry["op"].get<std::string>().c_str() : "",
                  v["name"].get<std::string>().c_str(), v["device"].get<std::string>().c_str(),
                  v["priority"].get<int>());
      first = false;
    }
    std::printf("%-10s   -> cpu tensors: %s\n", "", entry["cpu_choice"].get<std::string>().c_str());
    if (cuda_built) std::printf("%-10s   -> cuda tensors: %s\n", "", entry["cuda_choice"].get<std::string>().c_str());
  }
  std::printf("\nAutomatic routing picks, per call, the highest-priority variant whose supports() accepts the "
              "shapes and dtypes.\n");
}

}  // namespace

Command add_backends_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("backends", "List devices, CPU ISA and caches, and every op's kernel variants");
  static bool json = false;
  sub->add_flag("--json", json, "Print JSON");
  return {sub, [] { run_backends(json); }};
}

}  // namespace tinyopt::cli
