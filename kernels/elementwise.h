// Elementwise ops written once: scalar math shared by every backend
// (TINYOPT_HD: the CUDA kernels call the same functions), float64 references
// and cost formulas.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"
#include "kernels/hd.h"

namespace tinyopt::kernels {

template <class T>
TINYOPT_HD inline T relu_scalar(T x) {
  // `x > 0 ? x : 0` keeps NaN as NaN (comparison is false -> 0 would hide it),
  // so write it the other way round: NaN propagates, as in PyTorch.
  return x < T(0) ? T(0) : x;
}

inline OpCost add_cost(int64_t n, size_t element_bytes = 4) { return {double(n), 3.0 * n * element_bytes}; }
inline OpCost relu_cost(int64_t n, size_t element_bytes = 4) { return {double(n), 2.0 * n * element_bytes}; }

inline void add_ref(const double* a, const double* b, double* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

inline void relu_ref(const double* x, double* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = relu_scalar(x[i]);
}

}  // namespace tinyopt::kernels
