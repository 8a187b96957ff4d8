// cpu.simd relu_backward: dx = relu'(x) * dy in one vectorised pass, threaded
// for large arrays (same rule as add.cpp). The scalar rule is shared with the
// reference (kernels/relu_backward.h), so x = 0 and NaN behave identically.
#include "backends/cpu/cpu_kernels_cnn.h"
#include "kernels/relu_backward.h"

namespace tinyopt::cpu {

bool relu_backward_supports(const ActivationBackwardArgs& args) {
  return args.x.is_contiguous() && args.dy.is_contiguous() && args.dx.is_contiguous();
}

void relu_backward_run(const ActivationBackwardArgs& args) {
  const float* x = args.x.data<float>();
  const float* dy = args.dy.data<float>();
  float* dx = args.dx.data<float>();
  const int64_t n = args.x.numel();
#pragma omp parallel for simd schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = kernels::relu_backward_scalar(x[i], dy[i]);
}

}  // namespace tinyopt::cpu
