// conv2d, written once: the float64 reference (the conformance test's oracle)
// and the cost formulas of the forward and backward ops.
//
// Layouts follow PyTorch: x [N, C, H, W], w [O, C, KH, KW], bias [O],
// y [N, O, OH, OW], all contiguous row-major. Output position (oh, ow) reads
// input rows oh*stride_h - pad_h + i (i < KH) and columns ow*stride_w - pad_w + j;
// positions outside the input are zero padding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"

namespace tinyopt::kernels {

// Every size of one conv2d call, so kernels and references take one argument.
struct Conv2dDims {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input
  int64_t o = 0, kh = 0, kw = 0;       // weights
  int64_t oh = 0, ow = 0;              // output
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;

  // The GEMM view: y[n] (O x OH*OW) = w (O x C*KH*KW) * im2col(x[n]) (C*KH*KW x OH*OW).
  int64_t patch() const { return c * kh * kw; }
  int64_t out_pixels() const { return oh * ow; }
  int64_t in_pixels() const { return h * w; }
  // 1x1, stride 1, no padding: im2col(x[n]) is x[n] itself ([C, H*W]).
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
};

// Output size of one spatial dimension (the caller has checked the kernel fits).
inline int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

inline Conv2dDims conv2d_dims(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                              int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w) {
  return {n, c, h, w, o, kh, kw, conv_out_size(h, kh, stride_h, pad_h), conv_out_size(w, kw, stride_w, pad_w),
          stride_h, stride_w, pad_h, pad_w};
}

// FLOPs: one multiply-add (2 flops) per (output element, patch element), as
// frameworks count it: taps that land on zero padding are counted too, since
// every implementation here (im2col GEMM, oneDNN) multiplies them. Plus one add
// per output element for the bias. Bytes: every operand read or written once.
inline OpCost conv2d_cost(const Conv2dDims& d, bool has_bias, size_t element_bytes = 4) {
  const double outputs = double(d.n) * d.o * d.oh * d.ow;
  const double e = static_cast<double>(element_bytes);
  return {2.0 * outputs * double(d.patch()) + (has_bias ? outputs : 0.0),
          e * (double(d.n) * d.c * d.h * d.w + double(d.o) * d.patch() + (has_bias ? double(d.o) : 0.0) + outputs)};
}

// Backward: dw = dy x im2col(x)^T and dx = col2im(w^T dy) cost one forward's
// multiply-adds each; db is one add per dy element. Bytes: x and dy read (and
// w when dx is wanted), each gradient written once.
inline OpCost conv2d_backward_cost(const Conv2dDims& d, bool want_dx, bool want_db, size_t element_bytes = 4) {
  const double outputs = double(d.n) * d.o * d.oh * d.ow;
  const double macs = outputs * double(d.patch());
  const double e = static_cast<double>(element_bytes);
  const double x = double(d.n) * d.c * d.h * d.w, w = double(d.o) * d.patch();
  return {2.0 * macs * (want_dx ? 2.0 : 1.0) + (want_db ? outputs : 0.0),
          e * (x + outputs + w + (want_dx ? w + x : 0.0) + (want_db ? double(d.o) : 0.0))};
}

// y = conv(x, w) + bias; bias may be null.
inline void conv2d_ref(const double* x, const double* w, const double* bias, double* y, const Conv2dDims& d) {
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t o = 0; o < d.o; ++o)
      for (int64_t oh = 0; oh < d.oh; ++oh)
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          double sum = bias ? bias[o] : 0.0;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i) {
              const int64_t ih = oh * d.stride_h - d.pad_h + i;
              if (ih < 0 || ih >= d.h) continue;
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t iw = ow * d.stride_w - d.pad_w + j;
                if (iw < 0 || iw >= d.w) continue;
                sum += x[((n * d.c + c) * d.h + ih) * d.w + iw] * w[((o * d.c + c) * d.kh + i) * d.kw + j];
              }
            }
          y[((n * d.o + o) * d.oh + oh) * d.ow + ow] = sum;
        }
}

}  // namespace tinyopt::kernels
