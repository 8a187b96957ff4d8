// cuda add: out = a + b elementwise, f32 (the twin of backends/cpu/add.cpp).
// Memory-bound (12 bytes moved per FLOP): a grid-stride loop in which
// consecutive threads touch consecutive floats, so every warp reads and
// writes whole 128-byte lines. Scalar loads are deliberate: tensors may be
// views at any 4-byte offset, and coalesced scalar accesses already run
// close to DRAM bandwidth for an op this simple.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;

// No __restrict__: out may alias a or b (an in-place add), which is safe
// because each element is read and written by the same thread.
__global__ void add_f32_kernel(const float* a, const float* b, float* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = a[i] + b[i];
}

}  // namespace

void add_f32(const float* a, const float* b, float* out, int64_t n) {
  if (n == 0) return;
  add_f32_kernel<<<grid_size_1d(n, kThreadsPerBlock), kThreadsPerBlock>>>(a, b, out, n);
  CUDA_CHECK_LAUNCH("add_f32_kernel");
}

bool add_supports(const BinaryArgs& args) {
  return args.a.dtype() == DType::f32 && args.b.dtype() == DType::f32 && args.out.dtype() == DType::f32 &&
         args.a.is_contiguous() && args.b.is_contiguous() && args.out.is_contiguous() && args.out.device().is_cuda();
}

void add_run(const BinaryArgs& args) {
  set_device(args.out.device().index);
  add_f32(args.a.data<float>(), args.b.data<float>(), args.out.data<float>(), args.a.numel());
}

}  // namespace tinyopt::cuda
