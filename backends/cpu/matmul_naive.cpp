// cpu.naive matmul: the course's i-j-k triple loop, kept naive on purpose.
// It is the baseline of the speedup ladder: the inner loop walks B down a
// column (stride N floats), so nearly every load of B misses the cache once
// N is large, and nothing is vectorised or threaded.
#include "backends/cpu/cpu_kernels.h"

namespace tinyopt::cpu {

void matmul_naive_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < k; ++p) {
        const float av = trans_a ? a[p * m + i] : a[i * k + p];
        const float bv = trans_b ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      c[i * n + j] = sum;
    }
  }
}

bool all_contiguous_f32(const MatmulArgs& args) {
  return args.a.dtype() == DType::f32 && args.a.is_contiguous() && args.b.is_contiguous() && args.c.is_contiguous();
}

bool matmul_naive_supports(const MatmulArgs& args) { return all_contiguous_f32(args); }

void matmul_naive_run(const MatmulArgs& args) {
  matmul_naive_f32(args.a.data<float>(), args.b.data<float>(), args.c.data<float>(), args.m(), args.n(), args.k(),
                   args.trans_a, args.trans_b);
}

}  // namespace tinyopt::cpu
