// cuda.naive quantize / dequantize: grid-stride elementwise kernels (the twin
// of backends/cpu/quantize.cpp). quantize divides in f32 with IEEE rounding
// (__fdiv_rn, never the fast approximate division), rounds half to even
// (rintf), clamps in float (so +-Inf saturate) and maps NaN to the zero point.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_quant.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void quantize_kernel(const float* x, uint8_t* y, int64_t n, float scale, int32_t zero_point) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = x[i];
    float q = rintf(__fdiv_rn(v, scale)) + static_cast<float>(zero_point);
    q = fminf(fmaxf(q, 0.0f), 255.0f);
    y[i] = static_cast<uint8_t>(v == v ? q : static_cast<float>(zero_point));
  }
}

__global__ void dequantize_kernel(const uint8_t* x, float* y, int64_t n, float scale, int32_t zero_point) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = __fmul_rn(scale, static_cast<float>(static_cast<int32_t>(x[i]) - zero_point));
}

bool on_cuda(const Tensor& x, const Tensor& y) {
  return x.is_contiguous() && y.is_contiguous() && x.device().is_cuda() && y.device().is_cuda();
}

}  // namespace

bool quantize_supports(const QuantizeArgs& args) { return on_cuda(args.x, args.y); }

void quantize_run(const QuantizeArgs& args) {
  const int64_t n = args.x.numel();
  if (n == 0) return;
  set_device(args.y.device().index);
  quantize_kernel<<<grid_size_1d(n, kThreads), kThreads>>>(args.x.data<float>(), args.y.data<uint8_t>(), n,
                                                           args.scale, args.zero_point);
  CUDA_CHECK_LAUNCH("quantize_kernel");
}

bool dequantize_supports(const DequantizeArgs& args) { return on_cuda(args.x, args.y); }

void dequantize_run(const DequantizeArgs& args) {
  const int64_t n = args.x.numel();
  if (n == 0) return;
  set_device(args.y.device().index);
  dequantize_kernel<<<grid_size_1d(n, kThreads), kThreads>>>(args.x.data<uint8_t>(), args.y.data<float>(), n,
                                                             args.scale, args.zero_point);
  CUDA_CHECK_LAUNCH("dequantize_kernel");
}

}  // namespace tinyopt::cuda
