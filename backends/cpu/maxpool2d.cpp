// cpu.simd maxpool2d: each (n, c) plane is independent, so OpenMP splits the
// N*C planes across threads (no sharing, no reduction) once the input is
// large enough to pay for waking the team. Within a plane, output rows are
// produced left to right; each window's valid rows and columns are clipped
// once (padding is -inf and never wins), so the inner loops carry no bounds
// tests. The window rule (strictly greater wins, first NaN wins) is
// kernels::maxpool_better, shared with the reference, so the argmax of tied
// windows is the same everywhere: the first maximum in row-major scan order.
//
// The common 2x2 stride-2 unpadded case has its own branch-free loop: four
// loads, three selects per output, which the compiler vectorises.
//
// u8 tensors (quantized CNNs) take the same loops, instantiated for uint8_t:
// max commutes with the monotone quantization map, so pooling the codes is
// pooling the real values. Inference on u8 (no argmax) with 2x2 stride-2
// windows has an AVX-512BW row loop instead: the compiler's version of the
// loop above gathers the even and odd bytes one by one, ~2.5 cycles an output
// on the CNN's 13-wide rows; the row loop does 32 outputs in 6 instructions.
//
// Small inputs skip OpenMP entirely (parallel_for.h): entering even a
// one-thread region costs ~0.4 us, more than pooling a batch-1 CNN layer.
// GCC 12's false "may be used uninitialized" on its own AVX-512 intrinsics (see qgemm_blocked.cpp).
#ifndef __clang__  // a GCC-only warning (clang does not know the flag)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "core/cpu_info.h"
#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/parallel_for.h"
#include "kernels/pool.h"

namespace tinyopt::cpu {

namespace {

// One plane, any kernel/stride/padding.
template <class T>
void pool_plane(const T* x, T* y, int32_t* argmax, int64_t h, int64_t w, int64_t oh, int64_t ow,
                int64_t k, int64_t s, int64_t p) {
  for (int64_t r = 0; r < oh; ++r) {
    const int64_t top = r * s - p;
    const int64_t i_lo = std::max<int64_t>(0, -top), i_hi = std::min<int64_t>(k, h - top);
    for (int64_t c = 0; c < ow; ++c) {
      const int64_t left = c * s - p;
      const int64_t j_lo = std::max<int64_t>(0, -left), j_hi = std::min<int64_t>(k, w - left);
      int64_t best_index = (top + i_lo) * w + left + j_lo;
      T best = x[best_index];
      for (int64_t i = i_lo; i < i_hi; ++i) {
        const int64_t row = (top + i) * w + left;
        for (int64_t j = j_lo; j < j_hi; ++j) {
          const T v = x[row + j];
          if (kernels::maxpool_better(v, best)) {
            best = v;
            best_index = row + j;
          }
        }
      }
      y[r * ow + c] = best;
      if (argmax) argmax[r * ow + c] = static_cast<int32_t>(best_index);
    }
  }
}

// One plane, 2x2 windows, stride 2, no padding (both CNN pools).
template <class T>
void pool_plane_2x2(const T* x, T* y, int32_t* argmax, int64_t w, int64_t oh, int64_t ow) {
  for (int64_t r = 0; r < oh; ++r) {
    const T* top = x + 2 * r * w;
    const T* bottom = top + w;
    T* out = y + r * ow;
    if (argmax) {
      int32_t* idx = argmax + r * ow;
      const int32_t base = static_cast<int32_t>(2 * r * w);
      const int32_t wide = static_cast<int32_t>(w);
#pragma omp simd
      for (int64_t c = 0; c < ow; ++c) {
        // Scan order a, b, c, d, exactly as the generic loop.
        T best = top[2 * c];
        int32_t at = base + static_cast<int32_t>(2 * c);
        const T b = top[2 * c + 1], lc = bottom[2 * c], ld = bottom[2 * c + 1];
        if (kernels::maxpool_better(b, best)) { best = b; at = base + static_cast<int32_t>(2 * c + 1); }
        if (kernels::maxpool_better(lc, best)) { best = lc; at = base + wide + static_cast<int32_t>(2 * c); }
        if (kernels::maxpool_better(ld, best)) { best = ld; at = base + wide + static_cast<int32_t>(2 * c + 1); }
        out[c] = best;
        idx[c] = at;
      }
    } else {
#pragma omp simd
      for (int64_t c = 0; c < ow; ++c) {
        T best = top[2 * c];
        const T b = top[2 * c + 1], lc = bottom[2 * c], ld = bottom[2 * c + 1];
        if (kernels::maxpool_better(b, best)) best = b;
        if (kernels::maxpool_better(lc, best)) best = lc;
        if (kernels::maxpool_better(ld, best)) best = ld;
        out[c] = best;
      }
    }
  }
}

// One u8 plane, 2x2 windows, stride 2, no padding, no argmax: per output row,
// the byte max of the two input rows, then each even byte against its odd
// neighbour (a 16-bit shift brings it alongside), then the even bytes packed.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void pool_plane_2x2_u8(const uint8_t* x, uint8_t* y, int64_t w,
                                                                            int64_t oh, int64_t ow) {
  for (int64_t r = 0; r < oh; ++r) {
    const uint8_t* top = x + 2 * r * w;
    const uint8_t* bottom = top + w;
    uint8_t* out = y + r * ow;
    for (int64_t c0 = 0; c0 < ow; c0 += 32) {  // 32 outputs from 64 input bytes
      const int64_t outputs = std::min<int64_t>(32, ow - c0);
      const __mmask64 in_mask = outputs == 32 ? ~__mmask64{0} : (__mmask64{1} << (2 * outputs)) - 1;
      const __m512i rows = _mm512_max_epu8(_mm512_maskz_loadu_epi8(in_mask, top + 2 * c0),
                                           _mm512_maskz_loadu_epi8(in_mask, bottom + 2 * c0));
      const __m512i pairs = _mm512_max_epu8(rows, _mm512_srli_epi16(rows, 8));  // even byte = max of its pair
      const __m256i packed = _mm512_cvtepi16_epi8(_mm512_and_si512(pairs, _mm512_set1_epi16(0x00FF)));
      _mm256_mask_storeu_epi8(out + c0, static_cast<__mmask32>((uint64_t{1} << outputs) - 1), packed);
    }
  }
}

}  // namespace

bool maxpool2d_supports(const MaxPool2dArgs& args) {
  return args.x.is_contiguous() && args.y.is_contiguous() && (!args.argmax.defined() || args.argmax.is_contiguous());
}

namespace {

template <class T>
void maxpool2d_typed(const MaxPool2dArgs& args) {
  const int64_t planes = args.x.size(0) * args.x.size(1);
  const int64_t h = args.x.size(2), w = args.x.size(3), oh = args.y.size(2), ow = args.y.size(3);
  TINYOPT_CHECK(h * w <= std::numeric_limits<int32_t>::max(),
                "maxpool2d: a plane of {}x{} is too large for i32 argmax indices", h, w);
  const T* x = args.x.data<T>();
  T* y = args.y.data<T>();
  int32_t* argmax = args.argmax.defined() ? args.argmax.data<int32_t>() : nullptr;
  const int64_t k = args.kernel, s = args.stride, p = args.pad;
  const bool two_by_two = k == 2 && s == 2 && p == 0;
  bool rows_u8 = false;
  if constexpr (std::is_same_v<T, uint8_t>) rows_u8 = two_by_two && argmax == nullptr && simd_isa() == SimdIsa::avx512;
  const auto pool = [&](int64_t plane) {
    const T* xp = x + plane * h * w;
    T* yp = y + plane * oh * ow;
    int32_t* ap = argmax ? argmax + plane * oh * ow : nullptr;
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (rows_u8) return pool_plane_2x2_u8(xp, yp, w, oh, ow);
    }
    if (two_by_two)
      pool_plane_2x2(xp, yp, ap, w, oh, ow);
    else
      pool_plane(xp, yp, ap, h, w, oh, ow, k, s, p);
  };
  parallel_for_if(planes * h * w >= 65536, planes, pool);
}

}  // namespace

void maxpool2d_run(const MaxPool2dArgs& args) {
  if (args.x.dtype() == DType::u8)
    maxpool2d_typed<uint8_t>(args);
  else
    maxpool2d_typed<float>(args);
}

}  // namespace tinyopt::cpu
