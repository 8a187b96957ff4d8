// cuda.naive qconv2d: one thread per output element (the CUDA twin of
// backends/cpu/qconv2d_naive.cpp). The C*KH*KW taps of a patch are walked in
// groups of 4 for __dp4a, each tap gathered with its bounds test; a tap in the
// padding reads x_zero (real 0). Activations enter as x - 128 (see
// quant_output.cuh) and the correction (128 - x_zero) * sum w + bias restores
// the exact i32 accumulator.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_quant.h"
#include "backends/cuda/quant_output.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void qconv2d_naive_kernel(const uint8_t* x, const int8_t* w, const int32_t* bias, QuantOutputDevice out,
                                     kernels::Conv2dDims d, int32_t x_zero) {
  const int64_t total = d.n * d.o * d.oh * d.ow;
  const int64_t patch = d.c * d.kh * d.kw;  // Conv2dDims::patch() is host-only
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ow = idx % d.ow, oh = (idx / d.ow) % d.oh, o = (idx / (d.ow * d.oh)) % d.o;
    const int64_t n = idx / (d.ow * d.oh * d.o);
    const int8_t* wr = w + o * patch;
    // Tap t of the patch: (c, i, j) = (t / (kh*kw), t / kw % kh, t % kw); padding reads x_zero.
    const auto tap = [&](int64_t t) -> uint8_t {
      if (t >= patch) return 128;  // past the patch: paired with a zero weight
      const int64_t c = t / (d.kh * d.kw), i = (t / d.kw) % d.kh, j = t % d.kw;
      const int64_t ih = oh * d.stride_h - d.pad_h + i, iw = ow * d.stride_w - d.pad_w + j;
      if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) return static_cast<uint8_t>(x_zero);
      return x[((n * d.c + c) * d.h + ih) * d.w + iw];
    };
    int dot = 0, wsum = 0;
    for (int64_t t = 0; t < patch; t += 4) {
      const int wv = pack_s8(wr[t], t + 1 < patch ? wr[t + 1] : 0, t + 2 < patch ? wr[t + 2] : 0,
                             t + 3 < patch ? wr[t + 3] : 0);
      dot = __dp4a(pack_u8_as_s8(tap(t), tap(t + 1), tap(t + 2), tap(t + 3)), wv, dot);
      wsum = __dp4a(0x01010101, wv, wsum);
    }
    out.store(dot + (128 - x_zero) * wsum + (bias ? bias[o] : 0), o, idx);
  }
}

}  // namespace

bool qconv2d_cuda_supports(const QConv2dArgs& args) {
  const auto ok = [](const Tensor& t) { return !t.defined() || (t.is_contiguous() && t.device().is_cuda()); };
  // No fused max-pool here (QuantizedConv2d pools separately on a GPU).
  return args.pool == 0 && ok(args.x) && ok(args.w) && ok(args.bias) && ok(args.y) && ok(args.out.multiplier) &&
         ok(args.out.shift) && ok(args.out.scale);
}

void qconv2d_naive_run(const QConv2dArgs& args) {
  const kernels::Conv2dDims d =
      kernels::conv2d_dims(args.x.size(0), args.x.size(1), args.x.size(2), args.x.size(3), args.w.size(0),
                           args.w.size(2), args.w.size(3), args.g.stride_h, args.g.stride_w, args.g.pad_h, args.g.pad_w);
  const int64_t total = d.n * d.o * d.oh * d.ow;
  if (total == 0) return;
  set_device(args.y.device().index);
  qconv2d_naive_kernel<<<grid_size_1d(total, kThreads), kThreads>>>(
      args.x.data<uint8_t>(), args.w.data<int8_t>(), args.bias.defined() ? args.bias.data<int32_t>() : nullptr,
      QuantOutputDevice::of(args.out, args.y), d, args.x_zero);
  CUDA_CHECK_LAUNCH("qconv2d_naive_kernel");
}

}  // namespace tinyopt::cuda
