// The CPU backend's function tables: one line per kernel variant.
// Priorities order automatic routing: the fastest measured variant first, naive last.
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/cpu_kernels_quant.h"

namespace tinyopt::cpu {

void register_cpu_variants() {
  const DeviceType cpu = DeviceType::cpu;
  ops::matmul.add({"cpu.naive", cpu, 10, matmul_naive_supports, matmul_naive_run});
  // Our packed AVX-512 GEMM matches oneDNN from 256^3 up and beats it on the small and skinny
  // shapes models use (batch-1 linear layers: no packing, no per-call primitive overhead),
  // so automatic routing prefers it (measured in docs/BENCHMARKS.md).
  ops::matmul.add({"cpu.blocked", cpu, 60, matmul_blocked_supports, matmul_blocked_run});
  ops::matmul.add({"cpu.onednn", cpu, 55, matmul_onednn_supports, matmul_onednn_run});
  ops::add.add({"cpu.simd", cpu, 50, add_supports, add_run});
  ops::relu.add({"cpu.simd", cpu, 50, relu_supports, relu_run});
  // Transformer ops (cpu_kernels_transformer.h).
  ops::gelu.add({"cpu.simd", cpu, 50, gelu_supports, gelu_run});
  ops::gelu_backward.add({"cpu.simd", cpu, 50, gelu_backward_supports, gelu_backward_run});
  ops::softmax.add({"cpu.simd", cpu, 50, softmax_supports, softmax_run});
  ops::cross_entropy.add({"cpu.simd", cpu, 50, cross_entropy_supports, cross_entropy_run});
  ops::layernorm.add({"cpu.simd", cpu, 50, layernorm_supports, layernorm_run});
  ops::layernorm_backward.add({"cpu.simd", cpu, 50, layernorm_backward_supports, layernorm_backward_run});
  ops::embedding.add({"cpu.simd", cpu, 50, embedding_supports, embedding_run});
  ops::embedding_backward.add({"cpu.simd", cpu, 50, embedding_backward_supports, embedding_backward_run});
  ops::attention.add({"cpu.naive", cpu, 10, attention_naive_supports, attention_naive_run});
  ops::attention.add({"cpu.blocked", cpu, 50, attention_blocked_supports, attention_blocked_run});
  ops::attention_backward.add(
      {"cpu.blocked", cpu, 50, attention_backward_blocked_supports, attention_backward_blocked_run});
  ops::attention_decode.add({"cpu.naive", cpu, 10, attention_decode_naive_supports, attention_decode_naive_run});
  ops::attention_decode.add({"cpu.blocked", cpu, 50, attention_decode_blocked_supports, attention_decode_blocked_run});
  ops::conv2d.add({"cpu.naive", cpu, 10, conv2d_cpu_supports, conv2d_naive_run});
  ops::conv2d.add({"cpu.blocked", cpu, 50, conv2d_cpu_supports, conv2d_blocked_run});
  ops::conv2d.add({"cpu.onednn", cpu, 60, conv2d_onednn_supports, conv2d_onednn_run});
  ops::conv2d_backward.add({"cpu.naive", cpu, 10, conv2d_backward_cpu_supports, conv2d_backward_naive_run});
  ops::conv2d_backward.add({"cpu.blocked", cpu, 50, conv2d_backward_cpu_supports, conv2d_backward_blocked_run});
  ops::conv2d_backward.add({"cpu.onednn", cpu, 60, conv2d_backward_onednn_supports, conv2d_backward_onednn_run});
  ops::maxpool2d.add({"cpu.simd", cpu, 50, maxpool2d_supports, maxpool2d_run});
  ops::maxpool2d_backward.add({"cpu.simd", cpu, 50, maxpool2d_backward_supports, maxpool2d_backward_run});
  ops::bias_add.add({"cpu.simd", cpu, 50, bias_add_supports, bias_add_run});
  ops::sum_rows.add({"cpu.simd", cpu, 50, sum_rows_supports, sum_rows_run});
  ops::relu_backward.add({"cpu.simd", cpu, 50, relu_backward_supports, relu_backward_run});
  register_cpu_quant_variants();  // INT8 ops (register_cpu_quant.cpp)
}

}  // namespace tinyopt::cpu
