// Embedding lookup, written once: float64 references and cost formulas.
// ids are passed as doubles (the conformance table's storage) and must be valid.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"

namespace tinyopt::kernels {

// A gather: no arithmetic, n rows of d floats read and written.
inline OpCost embedding_cost(int64_t n, int64_t d, size_t id_bytes = 8) {
  return {0.0, double(n) * (8.0 * d + double(id_bytes))};
}

// Scatter-add: one add per element; dtable (v x d) is zeroed then updated.
inline OpCost embedding_backward_cost(int64_t n, int64_t v, int64_t d, size_t id_bytes = 8) {
  return {double(n) * d, double(n) * (4.0 * d + double(id_bytes)) + 4.0 * double(v) * d};
}

inline void embedding_ref(const double* ids, const double* table, double* out, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; ++i) {
    const auto row = static_cast<int64_t>(ids[i]);
    for (int64_t j = 0; j < d; ++j) out[i * d + j] = table[row * d + j];
  }
}

inline void embedding_backward_ref(const double* ids, const double* dout, double* dtable, int64_t n, int64_t v,
                                   int64_t d) {
  for (int64_t i = 0; i < v * d; ++i) dtable[i] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto row = static_cast<int64_t>(ids[i]);
    for (int64_t j = 0; j < d; ++j) dtable[row * d + j] += dout[i * d + j];
  }
}

}  // namespace tinyopt::kernels
