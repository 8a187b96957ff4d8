// maxpool2d, written once: the window rule shared by every backend, the
// float64 reference and the cost formulas of the forward and backward ops.
//
// Each (n, c) plane [H, W] is pooled independently. Window (oh, ow) covers
// rows oh*stride - pad + i and columns ow*stride - pad + j (i, j < kernel);
// padding is -inf, so it never wins, and since pad <= kernel/2 every window
// holds at least one real element. argmax is the flat index h*W + w of the
// winner within its plane.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"
#include "kernels/hd.h"

namespace tinyopt::kernels {

// Does v replace the current best of a window scanned in row-major order?
// Strictly greater wins, so ties keep the first element in scan order (the
// argmax every backend must report). A NaN beats any number and the first NaN
// is kept, so NaN propagates as in PyTorch.
template <class T>
TINYOPT_HD inline bool maxpool_better(T v, T best) {
  return v > best || (v != v && best == best);
}

// Comparisons per output: kernel^2 (the first is an initialisation, counted anyway).
inline OpCost maxpool2d_cost(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t kernel,
                             bool want_argmax, size_t element_bytes = 4) {
  const double outputs = double(planes) * oh * ow;
  const double e = static_cast<double>(element_bytes);
  return {outputs * double(kernel) * double(kernel),
          e * double(planes) * h * w + e * outputs + (want_argmax ? 4.0 * outputs : 0.0)};
}

// One add per dy element (scatter into dx); dx is written once (zeroed, then
// accumulated in cache), dy and argmax read once.
inline OpCost maxpool2d_backward_cost(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                      size_t element_bytes = 4) {
  const double outputs = double(planes) * oh * ow;
  const double e = static_cast<double>(element_bytes);
  return {outputs, e * outputs + 4.0 * outputs + e * double(planes) * h * w};
}

// x [planes, h, w] -> y [planes, oh, ow]; argmax (may be null) as doubles.
inline void maxpool2d_ref(const double* x, double* y, double* argmax, int64_t planes, int64_t h, int64_t w,
                          int64_t oh, int64_t ow, int64_t kernel, int64_t stride, int64_t pad) {
  for (int64_t p = 0; p < planes; ++p) {
    const double* plane = x + p * h * w;
    for (int64_t r = 0; r < oh; ++r)
      for (int64_t s = 0; s < ow; ++s) {
        double best = 0;
        int64_t best_index = -1;
        for (int64_t i = 0; i < kernel; ++i) {
          const int64_t ih = r * stride - pad + i;
          if (ih < 0 || ih >= h) continue;
          for (int64_t j = 0; j < kernel; ++j) {
            const int64_t iw = s * stride - pad + j;
            if (iw < 0 || iw >= w) continue;
            const double v = plane[ih * w + iw];
            if (best_index < 0 || maxpool_better(v, best)) {
              best = v;
              best_index = ih * w + iw;
            }
          }
        }
        y[(p * oh + r) * ow + s] = best;
        if (argmax) argmax[(p * oh + r) * ow + s] = static_cast<double>(best_index);
      }
  }
}

}  // namespace tinyopt::kernels
