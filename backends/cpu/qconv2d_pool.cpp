// A fused max-pool (QConv2dArgs::pool) for the qconv2d variants that do not
// fuse it themselves: the whole convolution output into a scratch tensor,
// then the max-pool kernel over it. Same result as the fused kernels (max
// commutes with the monotone output stage), just without the saving.
#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/cpu_kernels_quant.h"

namespace tinyopt::cpu {

void qconv2d_then_pool(const QConv2dArgs& args, void (*unfused)(const QConv2dArgs&)) {
  if (args.pool == 0) {
    unfused(args);
    return;
  }
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  QConv2dArgs full = args;
  full.pool = 0;
  full.y = Tensor::empty({d.n, d.o, d.oh, d.ow}, args.y.dtype(), args.y.device());
  unfused(full);
  maxpool2d_run(MaxPool2dArgs{full.y, args.y, Tensor(), args.pool, args.pool, 0});
}

}  // namespace tinyopt::cpu
