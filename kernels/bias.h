// The bias of a linear layer, written once: bias_add (forward) and sum_rows
// (its gradient: the sum of dy over every row), float64 references and costs.
// x is viewed as [rows, cols] with cols = its last dimension.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"

namespace tinyopt::kernels {

inline OpCost bias_add_cost(int64_t rows, int64_t cols, size_t element_bytes = 4) {
  const double n = double(rows) * cols, e = static_cast<double>(element_bytes);
  return {n, e * (2.0 * n + double(cols))};
}

inline OpCost sum_rows_cost(int64_t rows, int64_t cols, size_t element_bytes = 4) {
  const double n = double(rows) * cols, e = static_cast<double>(element_bytes);
  return {n, e * (n + double(cols))};
}

inline void bias_add_ref(const double* x, const double* bias, double* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = x[r * cols + c] + bias[c];
}

inline void sum_rows_ref(const double* x, double* out, int64_t rows, int64_t cols) {
  for (int64_t c = 0; c < cols; ++c) out[c] = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[c] += x[r * cols + c];
}

}  // namespace tinyopt::kernels
