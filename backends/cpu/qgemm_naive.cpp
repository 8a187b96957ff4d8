// cpu.naive qgemm: the definition, three loops, one scalar multiply-add per
// step in i32, the zero point subtracted from every activation as it is read.
// The bottom rung of the int8 ladder and the readable statement of the op.
//
// Also home of the supports() every CPU int8 GEMM/conv variant shares.
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/quant_output.h"

namespace tinyopt::cpu {

namespace {
bool contiguous_or_absent(const Tensor& t) { return !t.defined() || t.is_contiguous(); }
bool output_contiguous(const QuantOutput& out) {
  return contiguous_or_absent(out.multiplier) && contiguous_or_absent(out.shift) && contiguous_or_absent(out.scale);
}
}  // namespace

bool qgemm_cpu_supports(const QGemmArgs& args) {
  return args.a.device().is_cpu() && args.a.is_contiguous() && args.w.is_contiguous() && args.y.is_contiguous() &&
         contiguous_or_absent(args.bias) && output_contiguous(args.out);
}

bool qconv2d_cpu_supports(const QConv2dArgs& args) {
  return args.x.device().is_cpu() && args.x.is_contiguous() && args.w.is_contiguous() && args.y.is_contiguous() &&
         contiguous_or_absent(args.bias) && output_contiguous(args.out);
}

void qgemm_naive_run(const QGemmArgs& args) {
  const int64_t m = args.m(), n = args.n(), k = args.k();
  const uint8_t* a = args.a.data<uint8_t>();
  const int8_t* w = args.w.data<int8_t>();
  const int32_t* bias = args.bias.defined() ? args.bias.data<int32_t>() : nullptr;
  const QuantOutputStage out(args.out, args.y);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = bias ? bias[j] : 0;
      for (int64_t p = 0; p < k; ++p) acc += (int32_t{a[i * k + p]} - args.a_zero) * int32_t{w[j * k + p]};
      out.store(acc, j, i * n + j);
    }
}

}  // namespace tinyopt::cpu
