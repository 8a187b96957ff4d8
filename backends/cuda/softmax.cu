// cuda.simt softmax over the last dimension (the twin of backends/cpu/softmax.cpp).
//
// One warp per row, 8 rows per block: three passes over the row (max; exp and
// sum, writing the exponentials to y; scale by 1/sum), each a warp-stride loop
// in which the 32 lanes read 32 consecutive floats (coalesced), joined by a
// butterfly reduction (warp_reduce.cuh), so no shared memory and no
// __syncthreads. Numerically stable as on the CPU: the row max is subtracted
// before exp, so nothing overflows and the sum is at least 1. exp is
// kernels::exp_f32, the same function the CPU kernel uses. Rows beyond the
// grid are covered by a grid-stride loop over warps.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "backends/cuda/warp_reduce.cuh"
#include "kernels/fast_math.h"

namespace tinyopt::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void softmax_f32_kernel(const float* x, float* y, int64_t rows, int64_t cols) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  // `row` is the same for all lanes of a warp, so the warp stays converged for the shuffles.
  for (int64_t row = warp; row < rows; row += warps) {
    const float* xr = x + row * cols;
    float* yr = y + row * cols;
    float m = -INFINITY;
    for (int64_t j = lane; j < cols; j += kWarpSize) m = fmaxf(m, xr[j]);
    m = warp_max(m);
    float sum = 0.0f;
    for (int64_t j = lane; j < cols; j += kWarpSize) {
      const float e = kernels::exp_f32(xr[j] - m);
      yr[j] = e;
      sum += e;
    }
    sum = warp_sum(sum);
    const float inv = 1.0f / sum;
    // Each lane rescales exactly the elements it wrote, so no fence is needed (and y may alias x).
    for (int64_t j = lane; j < cols; j += kWarpSize) yr[j] *= inv;
  }
}

}  // namespace

bool softmax_supports(const SoftmaxArgs& args) { return is_cuda_f32(args.x) && is_cuda_f32(args.y); }

void softmax_run(const SoftmaxArgs& args) {
  const int64_t cols = args.x.size(-1);
  if (cols == 0) return;
  const int64_t rows = args.x.numel() / cols;
  if (rows == 0) return;
  set_device(args.y.device().index);
  constexpr int kThreads = kWarpsPerBlock * kWarpSize;
  softmax_f32_kernel<<<grid_size_1d(rows, kWarpsPerBlock), kThreads>>>(args.x.data<float>(), args.y.data<float>(),
                                                                       rows, cols);
  CUDA_CHECK_LAUNCH("softmax_f32_kernel");
}

}  // namespace tinyopt::cuda
