// matmul, written once: the float64 reference (the conformance test's oracle)
// and the cost formula. C[M, N] = op(A) @ op(B) with row-major storage.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"

namespace tinyopt::kernels {

inline OpCost matmul_cost(int64_t m, int64_t n, int64_t k, size_t element_bytes = 4) {
  const double e = static_cast<double>(element_bytes);
  return {2.0 * m * n * k, e * (double(m) * k + double(k) * n + double(m) * n)};
}

// A is [M, K] (or [K, M] when trans_a), B is [K, N] (or [N, K] when trans_b).
inline void matmul_ref(const double* a, const double* b, double* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                       bool trans_b) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double av = trans_a ? a[p * m + i] : a[i * k + p];
        const double bv = trans_b ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      c[i * n + j] = sum;
    }
  }
}

}  // namespace tinyopt::kernels
