// spmm written once: y[M, N] = x[M, K] · W^T + bias with W [N, K] in CSR
// (core/ops_sparse.h). The float64 reference (the conformance oracle) and the
// cost formula.
#pragma once

#include <cstdint>

#include "kernels/cost.h"

namespace tinyopt::kernels {

// CSR arrays as float64 (how the conformance test hands over every input).
inline void spmm_ref(const double* x, const double* row_ptr, const double* col_idx, const double* values,
                     const double* bias, double* y, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t r = 0; r < n; ++r) {
      double acc = bias ? bias[r] : 0.0;
      for (int64_t j = int64_t(row_ptr[r]); j < int64_t(row_ptr[r + 1]); ++j)
        acc += values[j] * x[i * k + int64_t(col_idx[j])];
      y[i * n + r] = acc;
    }
}

inline OpCost spmm_cost(int64_t m, int64_t n, int64_t k, int64_t nnz, bool bias, int64_t index_bytes = 4) {
  const double md = double(m), nd = double(n);
  OpCost c;
  c.flops = 2.0 * double(nnz) * md + (bias ? md * nd : 0.0);
  c.bytes = double(nnz) * 8.0 + (nd + 1) * double(index_bytes) + 4.0 * (md * double(k) + md * nd + (bias ? nd : 0.0));
  return c;
}

}  // namespace tinyopt::kernels
