// The CPU backend's function tables: one line per kernel variant.
// Priorities order automatic routing: library (oneDNN) > our blocked kernels > naive.
#include "backends/cpu/cpu_kernels.h"

namespace tinyopt::cpu {

void register_cpu_variants() {
  const DeviceType cpu = DeviceType::cpu;
  ops::matmul.add({"cpu.naive", cpu, 10, matmul_naive_supports, matmul_naive_run});
  ops::matmul.add({"cpu.blocked", cpu, 50, matmul_blocked_supports, matmul_blocked_run});
  ops::matmul.add({"cpu.onednn", cpu, 60, matmul_onednn_supports, matmul_onednn_run});
  ops::add.add({"cpu.simd", cpu, 50, add_supports, add_run});
  ops::relu.add({"cpu.simd", cpu, 50, relu_supports, relu_run});
}

}  // namespace tinyopt::cpu
