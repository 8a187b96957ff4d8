// cpu.simd quantize / dequantize: one loop each that the compiler vectorises
// (`omp simd`), threaded only for large tensors (as add.cpp).
//
// quantize follows PyTorch's quantize_per_tensor: the division x / scale is
// done in f32 (not a multiply by 1/scale, which rounds differently), then
// rounded half to even (as nearbyint in the default rounding mode) and clamped
// in float before the conversion, so +-Inf and huge values saturate instead
// of overflowing the integer conversion. NaN has no code and maps to the zero
// point (real 0): the comparison v == v is false only for NaN.

#ifndef __clang__
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)
#endif
#include <algorithm>

// GCC 12's false "may be used uninitialized" on its own AVX-512 intrinsics (see qgemm_blocked.cpp).
#ifndef __clang__  // a GCC-only warning (clang does not know the flag)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

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
// The AVX-512 member of the set (simd_clones.h picks it) is written with
// intrinsics, 16 values per step: the division, the clamp to +-1024, a
// conversion that rounds half to even (the default rounding mode, as the
// magic-number add above assumes too), the zero point, the u8 clamp, NaN ->
// zero point. The compiler's AVX-512 version of the loop above spends ~3x as
// many instructions narrowing to bytes, which showed at batch 1.
TINYOPT_TARGET_AVX512 static void quantize_range_avx512(const float* x, uint8_t* y, int64_t begin, int64_t end,
                                                        float scale, float zp) {
  const __m512 s = _mm512_set1_ps(scale), lo = _mm512_set1_ps(-1024.0f), hi = _mm512_set1_ps(1024.0f);
  const __m512i z = _mm512_set1_epi32(static_cast<int32_t>(zp)), zero = _mm512_setzero_si512(),
                top = _mm512_set1_epi32(255);
  for (int64_t i = begin; i < end; i += 16) {
    const int64_t left = end - i;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512 q = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v, s), lo), hi);
    __m512i c = _mm512_add_epi32(_mm512_cvtps_epi32(q), z);
    c = _mm512_min_epi32(_mm512_max_epi32(c, zero), top);
    c = _mm512_mask_mov_epi32(c, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), z);
    _mm_mask_storeu_epi8(y + i, mask, _mm512_cvtepi32_epi8(c));
  }
}

TINYOPT_SIMD_CLONES_WITH_AVX512(quantize_range, quantize_range_body, quantize_range_avx512,
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
