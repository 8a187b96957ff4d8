// cuda.simt bias_add: out[r, c] = x[r, c] + bias[c], x viewed as [rows, cols]
// (the twin of backends/cpu/bias_add.cpp). A flat grid-stride loop: consecutive
// threads take consecutive elements (coalesced reads of x, writes of out), and
// bias[i % cols] is a small array every block re-reads from L1/L2. out may
// alias x (in place).
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;

__global__ void bias_add_f32_kernel(const float* x, const float* __restrict__ bias, float* out, int64_t n,
                                    int64_t cols) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = x[i] + bias[i % cols];
}

}  // namespace

bool bias_add_supports(const BiasAddArgs& args) {
  return is_cuda_f32(args.x) && is_cuda_f32(args.bias) && is_cuda_f32(args.out);
}

void bias_add_run(const BiasAddArgs& args) {
  const int64_t n = args.x.numel();
  const int64_t cols = args.x.size(-1);
  if (n == 0 || cols == 0) return;
  set_device(args.out.device().index);
  bias_add_f32_kernel<<<grid_size_1d(n, kThreadsPerBlock), kThreadsPerBlock>>>(
      args.x.data<float>(), args.bias.data<float>(), args.out.data<float>(), n, cols);
  CUDA_CHECK_LAUNCH("bias_add_f32_kernel");
}

}  // namespace tinyopt::cuda
