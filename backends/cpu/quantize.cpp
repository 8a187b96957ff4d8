// cpu.simd quantize / dequantize: one loop each that the compiler vectorises
// (`omp simd`), threaded only for large tensors (as add.cpp).
//
// quantize follows PyTorch's quantize_per_tensor: the division x / scale is
// done in f32 (not a multiply by 1/scale, which rounds differently), then
// rounded half to even (as nearbyint in the default rounding mode) and clamped
// in float before the conversion, so +-Inf and huge values saturate instead
// of overflowing the integer conversion. NaN has no code and maps to the zero
// point (real 0): the comparison v == v is false only for NaN.

#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)
#include <algorithm>

#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/simd_clones.h"

namespace tinyopt::cpu {

namespace {
constexpr float kRoundHalfEven = 12582912.0f;  // 1.5 * 2^23
constexpr int64_t kThreadedFrom = 65536;       // elements; as add.cpp
}  // namespace

bool quantize_supports(const QuantizeArgs& args) {
  return args.x.device().is_cpu() && args.x.is_contiguous() && args.y.is_contiguous();
}

// Quantizes x[begin, end) into y; vectorised, called serially for small
// tensors (an OpenMP region costs more than a batch-1 input) or per thread.
TINYOPT_SIMD_BODY void quantize_range_body(const float* x, uint8_t* y, int64_t begin, int64_t end, float scale, float zp) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    float v = x[i] / scale;
    v = v < -1024.0f ? -1024.0f : v > 1024.0f ? 1024.0f : v;  // anything beyond saturates anyway
    // Adding and subtracting 1.5 * 2^23 rounds half to even for |v| < 2^22,
    // exactly as nearbyint does, but as plain adds the loop vectorises
    // (nearbyint is a libm call per element: ~5 ns, most of an INT8 MLP's time).
    float q = (v + kRoundHalfEven) - kRoundHalfEven + zp;
    q = q < 0.0f ? 0.0f : q > 255.0f ? 255.0f : q;
    y[i] = static_cast<uint8_t>(static_cast<int32_t>(x[i] == x[i] ? q : zp));
  }
}
TINYOPT_SIMD_CLONES(quantize_range, quantize_range_body,
                    (const float* x, uint8_t* y, int64_t begin, int64_t end, float scale, float zp),
                    (x, y, begin, end, scale, zp))

void quantize_run(const QuantizeArgs& args) {
  const float* x = args.x.data<float>();
  uint8_t* y = args.y.data<uint8_t>();
  const int64_t n = args.x.numel();
  const float scale = args.scale, zp = static_cast<float>(args.zero_point);
  if (n < kThreadedFrom) {
    quantize_range(x, y, 0, n, scale, zp);
    return;
  }
  const int64_t chunk = 4096;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < n; b += chunk) quantize_range(x, y, b, std::min(n, b + chunk), scale, zp);
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
  if (n < kThreadedFrom) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = scale * static_cast<float>(int32_t{x[i]} - zp);
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = scale * static_cast<float>(int32_t{x[i]} - zp);
}

}  // namespace tinyopt::cpu
