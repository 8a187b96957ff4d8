// cuda relu: out = max(x, 0) elementwise, f32, in place allowed (the twin of
// backends/cpu/relu.cpp). The scalar math is kernels::relu_scalar, the same
// __host__ __device__ function the CPU kernel and the float64 reference use,
// so NaN propagates identically on every backend (fmaxf(x, 0) would turn a
// NaN into 0 here and nowhere else). Memory-bound: same coalesced
// grid-stride loop as add.cu.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "kernels/elementwise.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;

// No __restrict__: out may be x itself.
__global__ void relu_f32_kernel(const float* x, float* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = kernels::relu_scalar(x[i]);
}

}  // namespace

void relu_f32(const float* x, float* out, int64_t n) {
  if (n == 0) return;
  relu_f32_kernel<<<grid_size_1d(n, kThreadsPerBlock), kThreadsPerBlock>>>(x, out, n);
  CUDA_CHECK_LAUNCH("relu_f32_kernel");
}

bool relu_supports(const UnaryArgs& args) {
  return args.x.dtype() == DType::f32 && args.out.dtype() == DType::f32 && args.x.is_contiguous() &&
         args.out.is_contiguous() && args.out.device().is_cuda();
}

void relu_run(const UnaryArgs& args) {
  set_device(args.out.device().index);
  relu_f32(args.x.data<float>(), args.out.data<float>(), args.x.numel());
}

}  // namespace tinyopt::cuda
