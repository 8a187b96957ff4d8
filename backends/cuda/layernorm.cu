// cuda.simt layernorm over the last dimension D (the twin of
// backends/cpu/layernorm.cpp): y = (x - mean) * rstd * gamma + beta, with the
// biased variance as torch.nn.LayerNorm; mean and rstd saved when given.
//
// One warp per row, 8 rows per block, three coalesced warp-stride passes
// joined by butterfly reductions (warp_reduce.cuh). The statistics follow the
// CPU kernel exactly in form, for the same robustness: the mean is taken as
// pivot + shift with pivot = x[0] and shift = mean(x - pivot) (the
// differences are exact, so a large common offset does not swamp the sum),
// and the variance as mean((x - mean)^2) in a second pass, never as
// E[x^2] - E[x]^2 (which cancels catastrophically).
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "backends/cuda/warp_reduce.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;

// mean and rstd may be null. No __restrict__ on x/y: y may alias x.
__global__ void layernorm_f32_kernel(const float* x, const float* __restrict__ gamma, const float* __restrict__ beta,
                                     float* y, float* mean, float* rstd, int64_t rows, int64_t d, float eps) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  const float inv_d = 1.0f / static_cast<float>(d);
  for (int64_t row = warp; row < rows; row += warps) {
    const float* xr = x + row * d;
    float* yr = y + row * d;
    const float pivot = xr[0];  // one broadcast load for the whole warp
    float shift = 0.0f;
    for (int64_t j = lane; j < d; j += kWarpSize) shift += xr[j] - pivot;
    shift = warp_sum(shift) * inv_d;
    float var = 0.0f;
    for (int64_t j = lane; j < d; j += kWarpSize) {
      const float c = (xr[j] - pivot) - shift;
      var += c * c;
    }
    var = warp_sum(var) * inv_d;
    if (__any_sync(0xffffffffu, !isfinite(var))) {
      // The float sums overflowed (|x| beyond ~1e19) or the row holds NaN/Inf:
      // redo the row in double, as the CPU kernel does. LayerNorm does not
      // depend on the input's scale, so a row of 1e30s must not become beta;
      // non-finite inputs propagate NaN. __any_sync makes the choice once for the
      // whole warp, which the full-mask shuffles below need.
      double sum = 0;
      for (int64_t j = lane; j < d; j += kWarpSize) sum += xr[j];
      const double m = warp_sum(sum) / static_cast<double>(d);
      double dvar = 0;
      for (int64_t j = lane; j < d; j += kWarpSize) dvar += (xr[j] - m) * (xr[j] - m);
      const double drs = 1.0 / sqrt(warp_sum(dvar) / static_cast<double>(d) + eps);
      for (int64_t j = lane; j < d; j += kWarpSize) yr[j] = static_cast<float>((xr[j] - m) * drs * gamma[j] + beta[j]);
      if (lane == 0) {
        if (mean != nullptr) mean[row] = static_cast<float>(m);
        if (rstd != nullptr) rstd[row] = static_cast<float>(drs);
      }
      continue;
    }
    const float rs = 1.0f / sqrtf(var + eps);
    // Every lane has read all its elements (the reductions above needed them)
    // before any lane writes, so y may alias x.
    for (int64_t j = lane; j < d; j += kWarpSize) yr[j] = ((xr[j] - pivot) - shift) * rs * gamma[j] + beta[j];
    if (lane == 0) {
      if (mean != nullptr) mean[row] = pivot + shift;
      if (rstd != nullptr) rstd[row] = rs;
    }
  }
}

}  // namespace

bool layernorm_supports(const LayerNormArgs& args) {
  return is_cuda_f32(args.x) && is_cuda_f32(args.gamma) && is_cuda_f32(args.beta) && is_cuda_f32(args.y) &&
         is_cuda_f32_or_absent(args.mean) && is_cuda_f32_or_absent(args.rstd);
}

void layernorm_run(const LayerNormArgs& args) {
  const int64_t d = args.x.size(-1);
  if (d == 0) return;
  const int64_t rows = args.x.numel() / d;
  if (rows == 0) return;
  set_device(args.y.device().index);
  float* mean = args.mean.defined() ? args.mean.data<float>() : nullptr;
  float* rstd = args.rstd.defined() ? args.rstd.data<float>() : nullptr;
  constexpr int kThreads = kWarpsPerBlock * kWarpSize;
  layernorm_f32_kernel<<<grid_size_1d(rows, kWarpsPerBlock), kThreads>>>(
      args.x.data<float>(), args.gamma.data<float>(), args.beta.data<float>(), args.y.data<float>(), mean, rstd, rows,
      d, args.eps);
  CUDA_CHECK_LAUNCH("layernorm_f32_kernel");
}

}  // namespace tinyopt::cuda
