// cpu.simd cross_entropy: mean over rows of logsumexp(x) - x[target], with the
// optional gradient (softmax - onehot) / N written in the same pass.
// logsumexp is computed as max + log(sum exp(x - max)) (stable for any logit
// magnitude). Targets are checked before any arithmetic (a bad one throws
// tinyopt::Error naming its row and value; throwing inside an OpenMP region
// would abort instead). Per-row losses are summed in row order in double, so
// the loss does not depend on the thread count.
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/simd_clones.h"
#include "kernels/fast_math.h"

namespace tinyopt::cpu {

namespace {

constexpr int64_t kParallelMin = 16384;  // elements

// Rows [0, n) of logits; losses[r] receives row r's loss; dlogits may be null.
TINYOPT_SIMD_BODY void cross_entropy_rows_body(const float* logits, const int64_t* targets, double* losses,
                                               float* dlogits, int64_t n, int64_t k, float inv_batch) {
  for (int64_t r = 0; r < n; ++r) {
    const float* x = logits + r * k;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < k; ++j) m = x[j] > m ? x[j] : m;
    float sum = 0;
    if (dlogits == nullptr) {
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < k; ++j) sum += kernels::exp_f32(x[j] - m);
    } else {
      float* g = dlogits + r * k;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < k; ++j) {
        const float e = kernels::exp_f32(x[j] - m);
        g[j] = e;
        sum += e;
      }
      const float scale = inv_batch / sum;  // softmax / N in one multiply
#pragma omp simd
      for (int64_t j = 0; j < k; ++j) g[j] *= scale;
      g[targets[r]] -= inv_batch;
    }
    // loss = logsumexp - x[t] = (max - x[t]) + log(sum): the difference is taken
    // first, so a large common offset in the logits cancels exactly.
    losses[r] = double(m - x[targets[r]]) + std::log(double(sum));
  }
}
TINYOPT_SIMD_CLONES(cross_entropy_rows, cross_entropy_rows_body,
                    (const float* logits, const int64_t* targets, double* losses, float* dlogits, int64_t n, int64_t k,
                     float inv_batch),
                    (logits, targets, losses, dlogits, n, k, inv_batch))

template <class T>
void read_targets(const Tensor& t, int64_t k, std::vector<int64_t>& out) {
  const T* p = t.data<T>();
  for (size_t r = 0; r < out.size(); ++r) {
    const int64_t v = static_cast<int64_t>(p[r]);
    TINYOPT_CHECK(v >= 0 && v < k, "cross_entropy: target {} at row {} is outside the {} classes [0, {})", v, r, k, k);
    out[r] = v;
  }
}

}  // namespace

bool cross_entropy_supports(const CrossEntropyArgs& args) {
  return args.logits.is_contiguous() && args.targets.is_contiguous() &&
         (!args.dlogits.defined() || args.dlogits.is_contiguous());
}

void cross_entropy_run(const CrossEntropyArgs& args) {
  const int64_t n = args.logits.size(0);
  const int64_t k = args.logits.size(1);
  std::vector<int64_t> targets(static_cast<size_t>(n));
  if (args.targets.dtype() == DType::i32) {
    read_targets<int32_t>(args.targets, k, targets);
  } else {
    read_targets<int64_t>(args.targets, k, targets);
  }
  std::vector<double> losses(static_cast<size_t>(n));
  const float* logits = args.logits.data<float>();
  float* dlogits = args.dlogits.defined() ? args.dlogits.data<float>() : nullptr;
  const float inv_batch = 1.0f / static_cast<float>(n);
  const int64_t block = std::max<int64_t>(1, 4096 / std::max<int64_t>(k, 1));
#pragma omp parallel for schedule(static) if (n * k >= kParallelMin)
  for (int64_t r = 0; r < n; r += block) {
    cross_entropy_rows(logits + r * k, targets.data() + r, losses.data() + r, dlogits ? dlogits + r * k : nullptr,
                       std::min(block, n - r), k, inv_batch);
  }
  double total = 0;
  for (double l : losses) total += l;
  args.loss.data<float>()[0] = static_cast<float>(total / double(n));
}

}  // namespace tinyopt::cpu
