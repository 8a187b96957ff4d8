// cuda.simt gelu: out = x * Phi(x) elementwise (exact erf form, as
// torch.nn.GELU()), f32, in place allowed (the twin of backends/cpu/gelu.cpp).
// The scalar math is kernels::gelu_scalar, the TINYOPT_HD function the CPU
// kernel runs too, so both backends produce the same bits for the same input.
// ~25 flops per element against 8 bytes: still memory-bound on any GPU, so it
// is the same coalesced grid-stride loop as add.cu and relu.cu.
//
// Also home of the small supports() helpers every NN variant uses.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "kernels/activations.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;

// No __restrict__: out may be x itself (each element is read before it is written, by one thread).
__global__ void gelu_f32_kernel(const float* x, float* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = kernels::gelu_scalar(x[i]);
}

}  // namespace

bool is_cuda_f32(const Tensor& t) {
  return t.defined() && t.dtype() == DType::f32 && t.is_contiguous() && t.device().is_cuda();
}

bool is_cuda_f32_or_absent(const Tensor& t) { return !t.defined() || is_cuda_f32(t); }

bool gelu_supports(const UnaryArgs& args) { return is_cuda_f32(args.x) && is_cuda_f32(args.out); }

void gelu_run(const UnaryArgs& args) {
  const int64_t n = args.x.numel();
  if (n == 0) return;
  set_device(args.out.device().index);
  gelu_f32_kernel<<<grid_size_1d(n, kThreadsPerBlock), kThreadsPerBlock>>>(args.x.data<float>(),
                                                                          args.out.data<float>(), n);
  CUDA_CHECK_LAUNCH("gelu_f32_kernel");
}

}  // namespace tinyopt::cuda
