// relu_backward, written once: dx = relu'(x) * dy, the scalar rule shared by
// every backend, the float64 reference and the cost formula.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"
#include "kernels/hd.h"

namespace tinyopt::kernels {

// relu'(x) is 1 for x > 0 and 0 for x <= 0 (the subgradient PyTorch picks at
// 0). Written as `x <= 0 ? 0 : dy` like PyTorch's threshold_backward, so a NaN
// x passes dy through rather than silently zeroing it.
template <class T>
TINYOPT_HD inline T relu_backward_scalar(T x, T dy) {
  return x <= T(0) ? T(0) : dy;
}

inline OpCost relu_backward_cost(int64_t n, size_t element_bytes = 4) {
  return {double(n), 3.0 * double(n) * static_cast<double>(element_bytes)};
}

inline void relu_backward_ref(const double* x, const double* dy, double* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = relu_backward_scalar(x[i], dy[i]);
}

}  // namespace tinyopt::kernels
