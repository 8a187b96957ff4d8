// cuda.naive conv2d: the direct definition, one thread per output element, the
// bottom rung of the CUDA conv2d ladder (naive -> im2col + cuBLAS; the twin of
// backends/cpu/conv2d_naive.cpp).
//
// Thread idx of a grid-stride loop computes y[n, o, oh, ow] (ow fastest, so a
// warp writes consecutive floats) as bias[o] plus a C*KH*KW-long sum read
// straight from global memory: a bounds test per tap for the zero padding,
// the weights re-read by every output pixel, nothing staged in shared memory.
// Memory-bound, a small fraction of peak; conv2d_cublas.cu turns the same work
// into one GEMM.
//
// Also home of the helpers both CUDA conv2d variants share (sizes, supports()).
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;

// bias may be null.
__global__ void conv2d_naive_f32_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                        const float* __restrict__ bias, float* __restrict__ y, kernels::Conv2dDims d) {
  const int64_t total = d.n * d.o * d.oh * d.ow;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t ow = idx % d.ow;
    const int64_t oh = (idx / d.ow) % d.oh;
    const int64_t o = (idx / (d.ow * d.oh)) % d.o;
    const int64_t n = idx / (d.ow * d.oh * d.o);
    float sum = bias != nullptr ? bias[o] : 0.0f;
    for (int64_t c = 0; c < d.c; ++c)
      for (int64_t i = 0; i < d.kh; ++i) {
        const int64_t ih = oh * d.stride_h - d.pad_h + i;
        if (ih < 0 || ih >= d.h) continue;  // zero padding
        for (int64_t j = 0; j < d.kw; ++j) {
          const int64_t iw = ow * d.stride_w - d.pad_w + j;
          if (iw < 0 || iw >= d.w) continue;
          sum += x[((n * d.c + c) * d.h + ih) * d.w + iw] * w[((o * d.c + c) * d.kh + i) * d.kw + j];
        }
      }
    y[idx] = sum;
  }
}

}  // namespace

kernels::Conv2dDims conv2d_cuda_dims(const Conv2dArgs& args) {
  const Tensor& x = args.x;
  const Tensor& w = args.w;
  return kernels::conv2d_dims(x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3),
                              args.g.stride_h, args.g.stride_w, args.g.pad_h, args.g.pad_w);
}

bool conv2d_cuda_supports(const Conv2dArgs& args) {
  return is_cuda_f32(args.x) && is_cuda_f32(args.w) && is_cuda_f32(args.y) && is_cuda_f32_or_absent(args.bias);
}

void conv2d_naive_run(const Conv2dArgs& args) {
  const int64_t total = args.y.numel();
  if (total == 0) return;
  set_device(args.y.device().index);
  const float* bias = args.bias.defined() ? args.bias.data<float>() : nullptr;
  conv2d_naive_f32_kernel<<<grid_size_1d(total, kThreadsPerBlock), kThreadsPerBlock>>>(
      args.x.data<float>(), args.w.data<float>(), bias, args.y.data<float>(), conv2d_cuda_dims(args));
  CUDA_CHECK_LAUNCH("conv2d_naive_f32_kernel");
}

}  // namespace tinyopt::cuda
