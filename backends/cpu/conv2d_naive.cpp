// cpu.naive conv2d: the direct definition, seven nested loops, kept plain on
// purpose. It is the bottom rung of the conv2d ladder (naive -> im2col+GEMM ->
// oneDNN): one scalar multiply-add per innermost step, a bounds test per tap,
// no vectorisation, no threads, and the weights re-read for every output pixel.
//
// Also home of the helpers every CPU conv2d variant shares (sizes, supports()).
#include "backends/cpu/cpu_kernels_cnn.h"

namespace tinyopt::cpu {

kernels::Conv2dDims conv2d_dims(const Tensor& x, const Tensor& w, const Conv2dGeometry& g) {
  return kernels::conv2d_dims(x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), g.stride_h,
                              g.stride_w, g.pad_h, g.pad_w);
}

namespace {
bool contiguous_or_absent(const Tensor& t) { return !t.defined() || t.is_contiguous(); }
}  // namespace

bool conv2d_cpu_supports(const Conv2dArgs& args) {
  return args.x.is_contiguous() && args.w.is_contiguous() && args.y.is_contiguous() &&
         contiguous_or_absent(args.bias);
}

bool conv2d_backward_cpu_supports(const Conv2dBackwardArgs& args) {
  return args.x.is_contiguous() && args.w.is_contiguous() && args.dy.is_contiguous() && args.dw.is_contiguous() &&
         contiguous_or_absent(args.dx) && contiguous_or_absent(args.db);
}

void conv2d_naive_run(const Conv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const float* x = args.x.data<float>();
  const float* w = args.w.data<float>();
  const float* bias = args.bias.defined() ? args.bias.data<float>() : nullptr;
  float* y = args.y.data<float>();
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t o = 0; o < d.o; ++o)
      for (int64_t oh = 0; oh < d.oh; ++oh)
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          float sum = bias ? bias[o] : 0.0f;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i)
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t ih = oh * d.stride_h - d.pad_h + i;
                const int64_t iw = ow * d.stride_w - d.pad_w + j;
                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;  // zero padding
                sum += x[((n * d.c + c) * d.h + ih) * d.w + iw] * w[((o * d.c + c) * d.kh + i) * d.kw + j];
              }
          y[((n * d.o + o) * d.oh + oh) * d.ow + ow] = sum;
        }
}

}  // namespace tinyopt::cpu
