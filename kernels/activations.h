// GELU, written once: the f32 scalar math every backend runs (TINYOPT_HD),
// the float64 references (the conformance oracle) and the cost formulas.
//
// This is the exact form of torch.nn.GELU() (approximate='none'):
//   gelu(x)  = x * Phi(x),            Phi(x) = (1 + erf(x / sqrt 2)) / 2
//   gelu'(x) = Phi(x) + x * phi(x),   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
// not the tanh approximation.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cost.h"
#include "kernels/fast_math.h"
#include "kernels/hd.h"

namespace tinyopt::kernels {

TINYOPT_HD inline float gelu_scalar(float x) { return x * normal_cdf_f32(x); }

TINYOPT_HD inline float gelu_grad_scalar(float x) { return normal_cdf_f32(x) + x * normal_pdf_f32(x); }

// ~25 arithmetic operations per element (the CDF's polynomial, exp and divide).
inline OpCost gelu_cost(int64_t n, size_t element_bytes = 4) { return {25.0 * n, 2.0 * n * element_bytes}; }
// Reads x and dy, writes dx; ~35 operations (CDF plus density).
inline OpCost gelu_backward_cost(int64_t n, size_t element_bytes = 4) { return {35.0 * n, 3.0 * n * element_bytes}; }

// (1 + erf(x / sqrt 2)) / 2 written as erfc(-x / sqrt 2) / 2: equal, but the
// first form cancels for x below ~-6 even in float64 (1 - 0.99999999999999997),
// so the "reference" would be off by 2x there while the f32 kernel is not.
inline double normal_cdf_ref(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

inline double gelu_ref_scalar(double x) { return x * normal_cdf_ref(x); }

inline void gelu_ref(const double* x, double* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_ref_scalar(x[i]);
}

// Analytic derivative, for tests that want it without finite differences.
inline void gelu_backward_ref(const double* x, const double* dy, double* dx, int64_t n) {
  const double inv_sqrt_2pi = 0.39894228040143267794;
  for (int64_t i = 0; i < n; ++i) {
    dx[i] = dy[i] * (normal_cdf_ref(x[i]) + x[i] * inv_sqrt_2pi * std::exp(-0.5 * x[i] * x[i]));
  }
}

}  // namespace tinyopt::kernels
