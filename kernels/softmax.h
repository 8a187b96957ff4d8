// Softmax and cross-entropy over the last dimension, written once: float64
// references (the conformance oracle) and cost formulas. The f32 kernels use
// the same "subtract the row max" formulation: exp(x - max) never overflows,
// and the largest term is exactly 1, so the sum is at least 1 (no 0/0).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"

namespace tinyopt::kernels {

// Per element: a compare, a subtract, an exp (~15 operations), an add, a multiply.
inline OpCost softmax_cost(int64_t rows, int64_t cols) {
  const double n = double(rows) * cols;
  return {20.0 * n, 2.0 * n * 4};
}

// logits read once (plus dlogits written when wanted), 4- or 8-byte targets.
inline OpCost cross_entropy_cost(int64_t n, int64_t k, bool with_grad, size_t target_bytes = 8) {
  const double e = double(n) * k;
  return {(with_grad ? 22.0 : 18.0) * e, 4.0 * e * (with_grad ? 2 : 1) + double(n) * target_bytes + 4};
}

inline void softmax_ref(const double* x, double* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = x + r * cols;
    double* yr = y + r * cols;
    double m = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) m = std::max(m, xr[j]);
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += yr[j] = std::exp(xr[j] - m);
    for (int64_t j = 0; j < cols; ++j) yr[j] /= sum;
  }
}

// Mean over rows of -log softmax(logits[r])[targets[r]]. Targets are passed as
// doubles (the conformance table stores every input as float64) and must be
// valid indices. Optionally the analytic gradient (softmax - onehot) / N.
inline double cross_entropy_ref(const double* logits, const double* targets, int64_t n, int64_t k,
                                double* dlogits = nullptr) {
  double total = 0;
  for (int64_t r = 0; r < n; ++r) {
    const double* x = logits + r * k;
    const auto t = static_cast<int64_t>(targets[r]);
    double m = -INFINITY;
    for (int64_t j = 0; j < k; ++j) m = std::max(m, x[j]);
    double sum = 0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(x[j] - m);
    const double lse = m + std::log(sum);
    total += lse - x[t];
    if (dlogits != nullptr) {
      for (int64_t j = 0; j < k; ++j) dlogits[r * k + j] = (std::exp(x[j] - lse) - (j == t ? 1.0 : 0.0)) / double(n);
    }
  }
  return total / double(n);
}

}  // namespace tinyopt::kernels
