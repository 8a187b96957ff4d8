// im2col / col2im for the GEMM-based conv2d variants (see im2col.h).
#include "backends/cpu/im2col.h"

#include <emmintrin.h>

#include <algorithm>

namespace tinyopt::cpu {

namespace {

// Output columns ow whose input column ow*stride - pad + tap lies inside
// [0, in): the half-open range [lo, hi). Outside it a tap reads padding, so
// each row splits into zeros | valid run | zeros with no per-element test.
void valid_outputs(int64_t out, int64_t in, int64_t stride, int64_t pad, int64_t tap, int64_t& lo, int64_t& hi) {
  const int64_t first = pad - tap;  // need ow*stride >= first
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = in - 1 + pad - tap;  // need ow*stride <= last
  hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// dst[0, n) = src[0, n) for the short runs im2col copies (one output row,
// often 10-30 floats): 4-float SSE moves, and a last move that overlaps the
// previous one instead of a scalar tail (a library memcpy call costs more
// than such a copy; SSE is baseline x86-64, so no run-time dispatch).
inline void copy_run(float* dst, const float* src, int64_t n) {
  if (n < 4) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_loadu_ps(src + i));
  if (i < n) _mm_storeu_ps(dst + n - 4, _mm_loadu_ps(src + n - 4));
}

}  // namespace

void im2col_f32(const float* x, const kernels::Conv2dDims& d, float* col) {
  const int64_t pixels = d.out_pixels();
  for (int64_t c = 0; c < d.c; ++c)
    for (int64_t i = 0; i < d.kh; ++i)
      for (int64_t j = 0; j < d.kw; ++j) {
        float* row = col + ((c * d.kh + i) * d.kw + j) * pixels;
        int64_t lo, hi;
        valid_outputs(d.ow, d.w, d.stride_w, d.pad_w, j, lo, hi);
        for (int64_t oh = 0; oh < d.oh; ++oh) {
          float* dst = row + oh * d.ow;
          const int64_t ih = oh * d.stride_h - d.pad_h + i;
          if (ih < 0 || ih >= d.h) {
            std::fill(dst, dst + d.ow, 0.0f);
            continue;
          }
          // x[base + ow * stride] is the tap of output column ow (an index, not a
          // pointer: base alone may point before the image when padding).
          const int64_t base = (c * d.h + ih) * d.w - d.pad_w + j;
          std::fill(dst, dst + lo, 0.0f);
          if (d.stride_w == 1) {
            copy_run(dst + lo, x + (base + lo), hi - lo);
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = x[base + ow * d.stride_w];
          }
          std::fill(dst + hi, dst + d.ow, 0.0f);
        }
      }
}

void col2im_add_f32(const float* col, const kernels::Conv2dDims& d, float* dx) {
  const int64_t pixels = d.out_pixels();
  for (int64_t c = 0; c < d.c; ++c)
    for (int64_t i = 0; i < d.kh; ++i)
      for (int64_t j = 0; j < d.kw; ++j) {
        const float* row = col + ((c * d.kh + i) * d.kw + j) * pixels;
        int64_t lo, hi;
        valid_outputs(d.ow, d.w, d.stride_w, d.pad_w, j, lo, hi);
        for (int64_t oh = 0; oh < d.oh; ++oh) {
          const int64_t ih = oh * d.stride_h - d.pad_h + i;
          if (ih < 0 || ih >= d.h) continue;  // gradient of padding is dropped
          const float* src = row + oh * d.ow;
          const int64_t base = (c * d.h + ih) * d.w - d.pad_w + j;
          if (d.stride_w == 1) {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) dx[base + ow] += src[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dx[base + ow * d.stride_w] += src[ow];
          }
        }
      }
}

}  // namespace tinyopt::cpu
