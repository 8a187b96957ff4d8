// cpu.simd softmax over the last dimension.
// Numerically stable: each row is shifted by its max before exp, so the
// exponent is never positive (no overflow for logits of 1e4) and the max term
// is exactly 1 (the sum is >= 1, never 0/0 even when every other term
// underflows). Three vectorised passes per row (max; exp and sum; scale),
// all on a row that sits in L1, threads across rows for large inputs.
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)

#include <algorithm>
#include <limits>

#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/simd_clones.h"
#include "kernels/fast_math.h"

namespace tinyopt::cpu {

namespace {

constexpr int64_t kParallelMin = 16384;  // elements; below this one core wins

TINYOPT_SIMD_BODY void softmax_rows_body(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; ++j) {
      const float e = kernels::exp_f32(xr[j] - m);
      yr[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}
TINYOPT_SIMD_CLONES(softmax_rows, softmax_rows_body, (const float* x, float* y, int64_t rows, int64_t cols),
                    (x, y, rows, cols))

}  // namespace

bool softmax_supports(const SoftmaxArgs& args) { return args.x.is_contiguous() && args.y.is_contiguous(); }

void softmax_run(const SoftmaxArgs& args) {
  const int64_t cols = args.x.size(-1);
  if (cols == 0) return;
  const int64_t rows = args.x.numel() / cols;
  const float* x = args.x.data<float>();
  float* y = args.y.data<float>();
  // Blocks of rows of ~4K elements per work item amortise the call into the clone.
  const int64_t block = std::max<int64_t>(1, 4096 / cols);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; r += block) softmax_rows(x + r * cols, y + r * cols, std::min(block, rows - r), cols);
}

}  // namespace tinyopt::cpu
