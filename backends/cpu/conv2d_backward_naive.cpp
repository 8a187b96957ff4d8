// cpu.naive conv2d_backward: the direct definition, kept plain on purpose
// (the reference rung of the backward ladder). Every (output element, tap)
// pair of the forward pass contributes
//   dw[o, c, i, j] += dy[n, o, oh, ow] * x[n, c, ih, iw]
//   dx[n, c, ih, iw] += dy[n, o, oh, ow] * w[o, c, i, j]
// and db[o] is the sum of dy over n, oh, ow. Scalar, single-threaded.
#include <algorithm>

#include "backends/cpu/cpu_kernels_cnn.h"

namespace tinyopt::cpu {

void conv2d_backward_naive_run(const Conv2dBackwardArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const float* x = args.x.data<float>();
  const float* w = args.w.data<float>();
  const float* dy = args.dy.data<float>();
  float* dx = args.dx.defined() ? args.dx.data<float>() : nullptr;
  float* dw = args.dw.data<float>();
  float* db = args.db.defined() ? args.db.data<float>() : nullptr;
  // Outputs are overwritten, not accumulated into: start from zero.
  if (dx) std::fill(dx, dx + args.dx.numel(), 0.0f);
  std::fill(dw, dw + args.dw.numel(), 0.0f);
  if (db) std::fill(db, db + args.db.numel(), 0.0f);

  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t o = 0; o < d.o; ++o)
      for (int64_t oh = 0; oh < d.oh; ++oh)
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          const float g = dy[((n * d.o + o) * d.oh + oh) * d.ow + ow];
          if (db) db[o] += g;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i)
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t ih = oh * d.stride_h - d.pad_h + i;
                const int64_t iw = ow * d.stride_w - d.pad_w + j;
                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;  // padding has no gradient
                const int64_t xi = ((n * d.c + c) * d.h + ih) * d.w + iw;
                const int64_t wi = ((o * d.c + c) * d.kh + i) * d.kw + j;
                dw[wi] += g * x[xi];
                if (dx) dx[xi] += g * w[wi];
              }
        }
}

}  // namespace tinyopt::cpu
