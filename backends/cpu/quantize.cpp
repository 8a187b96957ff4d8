// cpu.simd quantize / dequantize: one loop each that the compiler vectorises
// (`omp simd`), threaded only for large tensors (as add.cpp).
//
// quantize follows PyTorch's quantize_per_tensor: the division x / scale is
// done in f32 (not a multiply by 1/scale, which rounds differently), then
// rounded half to even (nearbyint in the default rounding mode) and clamped
// in float before the conversion, so +-Inf and huge values saturate instead
// of overflowing the integer conversion. NaN has no code and maps to the zero
// point (real 0): the comparison v == v is false only for NaN.
#include <cmath>

#include "backends/cpu/cpu_kernels_quant.h"

namespace tinyopt::cpu {

bool quantize_supports(const QuantizeArgs& args) {
  return args.x.device().is_cpu() && args.x.is_contiguous() && args.y.is_contiguous();
}

void quantize_run(const QuantizeArgs& args) {
  const float* x = args.x.data<float>();
  uint8_t* y = args.y.data<uint8_t>();
  const int64_t n = args.x.numel();
  const float scale = args.scale, zp = static_cast<float>(args.zero_point);
#pragma omp parallel for simd schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; ++i) {
    float q = std::nearbyint(x[i] / scale) + zp;
    q = q < 0.0f ? 0.0f : q > 255.0f ? 255.0f : q;
    y[i] = static_cast<uint8_t>(x[i] == x[i] ? q : zp);
  }
}

bool dequantize_supports(const DequantizeArgs& args) {
  return args.x.device().is_cpu() && args.x.is_contiguous() && args.y.is_contiguous();
}

void dequantize_run(const DequantizeArgs& args) {
  const uint8_t* x = args.x.data<uint8_t>();
  float* y = args.y.data<float>();
  const int64_t n = args.x.numel();
  const float scale = args.scale;
  const int32_t zp = args.zero_point;
#pragma omp parallel for simd schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = scale * static_cast<float>(int32_t{x[i]} - zp);
}

}  // namespace tinyopt::cpu
