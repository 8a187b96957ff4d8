// cpu.simd layernorm and layernorm_backward over the last dimension D.
//
// Forward, per row (threads across rows): the mean is taken relative to the
// row's first element, mean = x0 + sum(x - x0) / D, then the variance as
// sum((x - mean)^2) / D (two passes, never E[x^2] - E[x]^2). With an offset of
// 1e3 on unit-scale data the naive formula loses every digit to cancellation,
// and even a plain f32 sum of x loses ~1e-4 in the mean (rounding at 1e5);
// the differences x - x0 are exact (Sterbenz) and small, so the mean is good
// to ~1e-7 relative to the spread. mean and rstd are saved when asked for
// (mean rounded to f32: the backward pass only needs it to that precision).
//
// Backward: dx needs only its own row (threads across rows):
//   xhat = (x - mean) rstd,  g = dy gamma,
//   dx = rstd (g - mean(g) - xhat mean(g xhat)).
// dgamma = sum_rows dy xhat and dbeta = sum_rows dy are column sums; instead of
// per-thread partial sums (whose combination order would change with the
// thread count) the columns are split between threads and each column is
// accumulated over the rows in order, in double: bit-identical for any number
// of threads.
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)

#include <algorithm>
#include <cmath>

#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/simd_clones.h"

namespace tinyopt::cpu {

namespace {

constexpr int64_t kParallelMin = 16384;  // elements
constexpr int64_t kColumnBlock = 32;     // dgamma/dbeta columns per work item (two cache lines)

// One row in double precision: the fallback for rows whose float sums
// overflow (|x| beyond ~1e19 squares past FLT_MAX). LayerNorm's output does
// not depend on the input's scale, so a row of 1e30-sized values must give
// the same y as the row divided by 1e30, not beta (what rstd = 1/sqrt(inf) = 0
// would give). Rows holding NaN or Inf take this path too and propagate NaN.
void layernorm_row_f64(const float* xr, const float* gamma, const float* beta, float* yr, float* mean, float* rstd,
                       int64_t d, float eps) {
  double sum = 0;
  for (int64_t j = 0; j < d; ++j) sum += xr[j];
  const double m = sum / static_cast<double>(d);
  double var = 0;
  for (int64_t j = 0; j < d; ++j) var += (xr[j] - m) * (xr[j] - m);
  const double rs = 1.0 / std::sqrt(var / static_cast<double>(d) + eps);
  for (int64_t j = 0; j < d; ++j) yr[j] = static_cast<float>((xr[j] - m) * rs * gamma[j] + beta[j]);
  if (mean != nullptr) *mean = static_cast<float>(m);
  if (rstd != nullptr) *rstd = static_cast<float>(rs);
}

TINYOPT_SIMD_BODY void layernorm_rows_body(const float* x, const float* gamma, const float* beta, float* y,
                                           float* mean, float* rstd, int64_t rows, int64_t d, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    // The mean is kept as pivot + shift: x - pivot is exact, and a mean rounded
    // to f32 as one number would be off by up to half an ulp of the offset
    // (3e-5 at 1e3), which the normalised output would inherit.
    const float pivot = xr[0];
    float shift = 0;
#pragma omp simd reduction(+ : shift)
    for (int64_t j = 0; j < d; ++j) shift += xr[j] - pivot;
    shift /= static_cast<float>(d);
    float var = 0;
#pragma omp simd reduction(+ : var)
    for (int64_t j = 0; j < d; ++j) var += ((xr[j] - pivot) - shift) * ((xr[j] - pivot) - shift);
    if (!std::isfinite(var)) {
      layernorm_row_f64(xr, gamma, beta, yr, mean ? mean + r : nullptr, rstd ? rstd + r : nullptr, d, eps);
      continue;
    }
    const float rs = 1.0f / std::sqrt(var / static_cast<float>(d) + eps);
#pragma omp simd
    for (int64_t j = 0; j < d; ++j) yr[j] = ((xr[j] - pivot) - shift) * rs * gamma[j] + beta[j];
    if (mean != nullptr) mean[r] = pivot + shift;
    if (rstd != nullptr) rstd[r] = rs;
  }
}
TINYOPT_SIMD_CLONES(layernorm_rows, layernorm_rows_body,
                    (const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                     int64_t rows, int64_t d, float eps),
                    (x, gamma, beta, y, mean, rstd, rows, d, eps))

TINYOPT_SIMD_BODY void layernorm_dx_rows_body(const float* x, const float* gamma, const float* mean, const float* rstd,
                                              const float* dy, float* dx, int64_t rows, int64_t d) {
  const float inv_d = 1.0f / static_cast<float>(d);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    const float* dyr = dy + r * d;
    float* dxr = dx + r * d;
    const float m = mean[r], rs = rstd[r];
    float g_mean = 0, gx_mean = 0;
#pragma omp simd reduction(+ : g_mean, gx_mean)
    for (int64_t j = 0; j < d; ++j) {
      const float g = dyr[j] * gamma[j];
      g_mean += g;
      gx_mean += g * (xr[j] - m) * rs;
    }
    g_mean *= inv_d;
    gx_mean *= inv_d;
#pragma omp simd
    for (int64_t j = 0; j < d; ++j) dxr[j] = rs * (dyr[j] * gamma[j] - g_mean - (xr[j] - m) * rs * gx_mean);
  }
}
TINYOPT_SIMD_CLONES(layernorm_dx_rows, layernorm_dx_rows_body,
                    (const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                     float* dx, int64_t rows, int64_t d),
                    (x, gamma, mean, rstd, dy, dx, rows, d))

// Columns [j0, j0 + width) of dgamma and dbeta, summed over all rows in order.
TINYOPT_SIMD_BODY void layernorm_dparams_body(const float* x, const float* mean, const float* rstd, const float* dy,
                                              float* dgamma, float* dbeta, int64_t rows, int64_t d, int64_t j0,
                                              int64_t width) {
  double acc_g[kColumnBlock] = {}, acc_b[kColumnBlock] = {};
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d + j0;
    const float* dyr = dy + r * d + j0;
    const float m = mean[r], rs = rstd[r];
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) {
      acc_g[j] += double(dyr[j] * ((xr[j] - m) * rs));
      acc_b[j] += double(dyr[j]);
    }
  }
  for (int64_t j = 0; j < width; ++j) {
    dgamma[j0 + j] = static_cast<float>(acc_g[j]);
    dbeta[j0 + j] = static_cast<float>(acc_b[j]);
  }
}
TINYOPT_SIMD_CLONES(layernorm_dparams, layernorm_dparams_body,
                    (const float* x, const float* mean, const float* rstd, const float* dy, float* dgamma,
                     float* dbeta, int64_t rows, int64_t d, int64_t j0, int64_t width),
                    (x, mean, rstd, dy, dgamma, dbeta, rows, d, j0, width))

}  // namespace

bool layernorm_supports(const LayerNormArgs& args) {
  return args.x.is_contiguous() && args.gamma.is_contiguous() && args.beta.is_contiguous() &&
         args.y.is_contiguous() && (!args.mean.defined() || args.mean.is_contiguous()) &&
         (!args.rstd.defined() || args.rstd.is_contiguous());
}

void layernorm_run(const LayerNormArgs& args) {
  const int64_t d = args.x.size(-1);
  if (d == 0) return;
  const int64_t rows = args.x.numel() / d;
  const float* x = args.x.data<float>();
  float* y = args.y.data<float>();
  const float* gamma = args.gamma.data<float>();
  const float* beta = args.beta.data<float>();
  float* mean = args.mean.defined() ? args.mean.data<float>() : nullptr;
  float* rstd = args.rstd.defined() ? args.rstd.data<float>() : nullptr;
  const int64_t block = std::max<int64_t>(1, 4096 / d);
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMin)
  for (int64_t r = 0; r < rows; r += block) {
    layernorm_rows(x + r * d, gamma, beta, y + r * d, mean ? mean + r : nullptr, rstd ? rstd + r : nullptr,
                   std::min(block, rows - r), d, args.eps);
  }
}

bool layernorm_backward_supports(const LayerNormBackwardArgs& args) {
  return args.x.is_contiguous() && args.gamma.is_contiguous() && args.mean.is_contiguous() &&
         args.rstd.is_contiguous() && args.dy.is_contiguous() && args.dx.is_contiguous() &&
         args.dgamma.is_contiguous() && args.dbeta.is_contiguous();
}

void layernorm_backward_run(const LayerNormBackwardArgs& args) {
  const int64_t d = args.x.size(-1);
  if (d == 0) return;
  const int64_t rows = args.x.numel() / d;
  const float* x = args.x.data<float>();
  const float* gamma = args.gamma.data<float>();
  const float* mean = args.mean.data<float>();
  const float* rstd = args.rstd.data<float>();
  const float* dy = args.dy.data<float>();
  float* dx = args.dx.data<float>();
  float* dgamma = args.dgamma.data<float>();
  float* dbeta = args.dbeta.data<float>();
  const int64_t block = std::max<int64_t>(1, 4096 / d);
  const bool parallel = rows * d >= kParallelMin;
#pragma omp parallel if (parallel)
  {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r += block) {
      layernorm_dx_rows(x + r * d, gamma, mean + r, rstd + r, dy + r * d, dx + r * d, std::min(block, rows - r), d);
    }
#pragma omp for schedule(static)
    for (int64_t j0 = 0; j0 < d; j0 += kColumnBlock) {
      layernorm_dparams(x, mean, rstd, dy, dgamma, dbeta, rows, d, j0, std::min(kColumnBlock, d - j0));
    }
  }
}

}  // namespace tinyopt::cpu
