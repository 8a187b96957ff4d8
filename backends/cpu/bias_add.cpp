// cpu.simd bias_add: out[r, :] = x[r, :] + bias, x viewed as [rows, cols].
// One vectorised pass over each row (bias stays in L1 and is re-read per
// row); OpenMP splits rows across threads once the tensor is large enough to
// pay for waking the team (64K elements, as add.cpp), or, when there are too
// few rows to share, splits each row's columns instead. out may alias x.
#include <omp.h>

#include "backends/cpu/cpu_kernels_cnn.h"

namespace tinyopt::cpu {

bool bias_add_supports(const BiasAddArgs& args) {
  return args.x.is_contiguous() && args.bias.is_contiguous() && args.out.is_contiguous();
}

void bias_add_run(const BiasAddArgs& args) {
  const int64_t cols = args.x.size(-1);
  const int64_t n = args.x.numel();
  if (n == 0) return;
  const int64_t rows = n / cols;
  const float* x = args.x.data<float>();
  const float* bias = args.bias.data<float>();
  float* out = args.out.data<float>();
  const bool threaded = n >= 65536;
  if (!threaded) {  // no OpenMP region at all for small tensors (see relu.cpp)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      float* outr = out + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) outr[c] = xr[c] + bias[c];
    }
    return;
  }
  if (rows >= 2 * omp_get_max_threads()) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      float* outr = out + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) outr[c] = xr[c] + bias[c];
    }
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      float* outr = out + r * cols;
#pragma omp parallel for simd schedule(static)
      for (int64_t c = 0; c < cols; ++c) outr[c] = xr[c] + bias[c];
    }
  }
}

}  // namespace tinyopt::cpu
