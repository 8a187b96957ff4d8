// The CPU backend's INT8 function tables (called from register_cpu.cpp).
// Priorities order automatic routing: the fastest measured variant first, naive last.
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/qgemm_blocked.h"

namespace tinyopt::cpu {

void register_cpu_quant_variants() {
  const DeviceType cpu = DeviceType::cpu;
  ops::qgemm.add({"cpu.naive", cpu, 10, qgemm_cpu_supports, qgemm_naive_run});
  ops::qgemm.add({"cpu.blocked", cpu, 50, qgemm_blocked_supports, qgemm_blocked_run});
  ops::qgemm.add({"cpu.onednn", cpu, 45, qgemm_onednn_supports, qgemm_onednn_run});
  ops::qconv2d.add({"cpu.naive", cpu, 10, qconv2d_cpu_supports, qconv2d_pooled_by_parts<qconv2d_naive_run>});
  // With VNNI our direct convolution beats oneDNN on the CNN's layers at batch
  // 1 and 64 (1.5-1.7x and 1.1-1.5x, docs/INT8_KERNELS.md); the AVX2 path is
  // an im2col GEMM and stays behind oneDNN.
  const bool direct_vnni = qgemm_blocked_isa() == QGemmIsa::avx512_vnni;
  ops::qconv2d.add({"cpu.onednn", cpu, 60, qconv2d_onednn_supports, qconv2d_pooled_by_parts<qconv2d_onednn_run>});
  ops::qconv2d.add({"cpu.blocked", cpu, direct_vnni ? 65 : 50, qconv2d_blocked_supports, qconv2d_blocked_run});
  ops::quantize.add({"cpu.simd", cpu, 50, quantize_supports, quantize_run});
  ops::dequantize.add({"cpu.simd", cpu, 50, dequantize_supports, dequantize_run});
}

}  // namespace tinyopt::cpu
