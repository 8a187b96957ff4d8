// cpu relu: vectorised, threaded for large arrays (same rule as add.cpp).
// Uses the shared scalar definition so NaN propagates exactly as on CUDA.
#include "backends/cpu/cpu_kernels.h"
#include "kernels/elementwise.h"

namespace tinyopt::cpu {

bool relu_supports(const UnaryArgs& args) {
  return args.x.dtype() == DType::f32 && args.x.is_contiguous() && args.out.is_contiguous();
}

void relu_run(const UnaryArgs& args) {
  const float* x = args.x.data<float>();
  float* out = args.out.data<float>();
  const int64_t n = args.x.numel();
  // Small arrays skip OpenMP altogether: even a parallel region with a false
  // `if` clause costs ~0.4 us in libgomp, more than the work of a batch-1 layer.
  if (n < 65536) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = kernels::relu_scalar(x[i]);
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = kernels::relu_scalar(x[i]);
}

}  // namespace tinyopt::cpu
