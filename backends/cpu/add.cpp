// cpu add: one simple loop the compiler vectorises (AVX-512/AVX2 via
// `omp simd`), threaded only when the array is large enough to pay for waking
// the second core (~64K elements; below that the fork/join costs more than it saves).
#include "backends/cpu/cpu_kernels.h"

namespace tinyopt::cpu {

bool add_supports(const BinaryArgs& args) {
  return args.a.dtype() == DType::f32 && args.a.is_contiguous() && args.b.is_contiguous() &&
         args.out.is_contiguous();
}

void add_run(const BinaryArgs& args) {
  const float* a = args.a.data<float>();
  const float* b = args.b.data<float>();
  float* out = args.out.data<float>();
  const int64_t n = args.a.numel();
  if (n < 65536) {  // no OpenMP region at all for small arrays (see relu.cpp)
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

}  // namespace tinyopt::cpu
