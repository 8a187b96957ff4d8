// cpu.naive qconv2d: the direct definition, seven nested loops in i32, a
// bounds test per tap. Padding holds x_zero, i.e. real 0, so a padded tap adds
// (x_zero - x_zero) * w = 0 and is simply skipped.
#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/quant_output.h"

namespace tinyopt::cpu {

void qconv2d_naive_run(const QConv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const uint8_t* x = args.x.data<uint8_t>();
  const int8_t* w = args.w.data<int8_t>();
  const int32_t* bias = args.bias.defined() ? args.bias.data<int32_t>() : nullptr;
  const QuantOutputStage out(args.out, args.y);
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t o = 0; o < d.o; ++o)
      for (int64_t oh = 0; oh < d.oh; ++oh)
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          int32_t acc = bias ? bias[o] : 0;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i)
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t ih = oh * d.stride_h - d.pad_h + i;
                const int64_t iw = ow * d.stride_w - d.pad_w + j;
                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;  // padding: real 0
                acc += (int32_t{x[((n * d.c + c) * d.h + ih) * d.w + iw]} - args.x_zero) *
                       int32_t{w[((o * d.c + c) * d.kh + i) * d.kw + j]};
              }
          out.store(acc, o, ((n * d.o + o) * d.oh + oh) * d.ow + ow);
        }
}

}  // namespace tinyopt::cpu
