// cuda.simt maxpool2d over NCHW input, with the optional i32 argmax (the twin
// of backends/cpu/maxpool2d.cpp).
//
// One thread per output element (grid-stride over N*C*OH*OW, consecutive
// threads along a row of the output, so writes are coalesced and reads hit
// neighbouring cache lines). Each thread clips its window to the plane once,
// which is what "padding is -inf and never wins" means, then scans it in
// row-major order with kernels::maxpool_better, the rule the CPU kernel and
// the reference share: strictly greater wins (ties keep the first element),
// the first NaN wins. argmax is the flat index h*W + w within the (n, c) plane.
#include <climits>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "kernels/pool.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;

// argmax may be null.
__global__ void maxpool2d_f32_kernel(const float* __restrict__ x, float* __restrict__ y, int32_t* __restrict__ argmax,
                                     int64_t total, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t kernel,
                                     int64_t stride, int64_t pad) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t c = idx % ow;
    const int64_t r = (idx / ow) % oh;
    const int64_t plane = idx / (ow * oh);
    const float* xp = x + plane * h * w;
    const int64_t top = r * stride - pad, left = c * stride - pad;
    const int64_t i_lo = top < 0 ? -top : 0, i_hi = kernel < h - top ? kernel : h - top;
    const int64_t j_lo = left < 0 ? -left : 0, j_hi = kernel < w - left ? kernel : w - left;
    // pad <= kernel / 2 (validate()) keeps at least one real element in every window.
    int64_t best_index = (top + i_lo) * w + left + j_lo;
    float best = xp[best_index];
    for (int64_t i = i_lo; i < i_hi; ++i) {
      const int64_t row = (top + i) * w + left;
      for (int64_t j = j_lo; j < j_hi; ++j) {
        const float v = xp[row + j];
        if (kernels::maxpool_better(v, best)) {
          best = v;
          best_index = row + j;
        }
      }
    }
    y[idx] = best;
    if (argmax != nullptr) argmax[idx] = static_cast<int32_t>(best_index);
  }
}

}  // namespace

bool maxpool2d_supports(const MaxPool2dArgs& args) {
  const Tensor& a = args.argmax;
  return is_cuda_f32(args.x) && is_cuda_f32(args.y) &&
         (!a.defined() || (a.dtype() == DType::i32 && a.is_contiguous() && a.device().is_cuda()));
}

void maxpool2d_run(const MaxPool2dArgs& args) {
  const int64_t h = args.x.size(2), w = args.x.size(3), oh = args.y.size(2), ow = args.y.size(3);
  TINYOPT_CHECK(h * w <= INT32_MAX, "maxpool2d: a plane of {}x{} is too large for i32 argmax indices", h, w);
  const int64_t total = args.y.numel();
  if (total == 0) return;
  set_device(args.y.device().index);
  int32_t* argmax = args.argmax.defined() ? args.argmax.data<int32_t>() : nullptr;
  maxpool2d_f32_kernel<<<grid_size_1d(total, kThreadsPerBlock), kThreadsPerBlock>>>(
      args.x.data<float>(), args.y.data<float>(), argmax, total, h, w, oh, ow, args.kernel, args.stride, args.pad);
  CUDA_CHECK_LAUNCH("maxpool2d_f32_kernel");
}

}  // namespace tinyopt::cuda
