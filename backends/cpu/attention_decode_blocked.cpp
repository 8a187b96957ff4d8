// cpu.blocked attention_decode: one query per (batch, head) against the KV
// cache in a single pass with an online softmax, (batch x head) rows spread
// over OpenMP threads, the inner loops vectorised over head_dim.
//
// Why this shape: a decode step is memory-bound (every cached key and value
// is touched once for 4 flops per element), so the kernel's job is to read
// K and V exactly once, contiguously. Keys are processed in chunks of 64:
// the chunk's scores go to a small stack buffer (dot products vectorised over
// hd), the running max moves once per chunk (one rescale of the accumulator
// per chunk, not per key), and the weighted values are accumulated into an
// hd-long float accumulator. exp is kernels::exp_f32, which vectorises.
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

constexpr int64_t kKeyChunk = 64;
constexpr int64_t kParallelMin = 32768;  // B*H*L*hd elements of K; below this one core wins

// One (batch, head) row: q [hd], k and v [L, hd] (row stride hd), out [hd];
// acc is hd floats of scratch.
TINYOPT_SIMD_BODY void decode_row_body(const float* q, const float* k, const float* v, float* out, float* acc,
                                        int64_t L, int64_t hd, float scale) {
  float s[kKeyChunk];
  float m = -std::numeric_limits<float>::infinity();
  float l = 0.0f;
#pragma omp simd
  for (int64_t d = 0; d < hd; ++d) acc[d] = 0.0f;
  for (int64_t j0 = 0; j0 < L; j0 += kKeyChunk) {
    const int64_t n = std::min(kKeyChunk, L - j0);
    float chunk_max = -std::numeric_limits<float>::infinity();
    for (int64_t jj = 0; jj < n; ++jj) {
      const float* kr = k + (j0 + jj) * hd;
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int64_t d = 0; d < hd; ++d) dot += q[d] * kr[d];
      s[jj] = dot * scale;
      chunk_max = s[jj] > chunk_max ? s[jj] : chunk_max;
    }
    const float m_new = std::max(m, chunk_max);
    const float alpha = kernels::exp_f32(m - m_new);  // 0 on the first chunk (m = -inf)
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t jj = 0; jj < n; ++jj) {
      const float p = kernels::exp_f32(s[jj] - m_new);
      s[jj] = p;
      sum += p;
    }
    l = l * alpha + sum;
    m = m_new;
#pragma omp simd
    for (int64_t d = 0; d < hd; ++d) acc[d] *= alpha;
    for (int64_t jj = 0; jj < n; ++jj) {
      const float p = s[jj];
      const float* vr = v + (j0 + jj) * hd;
#pragma omp simd
      for (int64_t d = 0; d < hd; ++d) acc[d] += p * vr[d];
    }
  }
  const float inv = 1.0f / l;
#pragma omp simd
  for (int64_t d = 0; d < hd; ++d) out[d] = acc[d] * inv;
}
TINYOPT_SIMD_CLONES(decode_row, decode_row_body,
                    (const float* q, const float* k, const float* v, float* out, float* acc, int64_t L, int64_t hd,
                     float scale),
                    (q, k, v, out, acc, L, hd, scale))

}  // namespace

bool attention_decode_blocked_supports(const AttentionDecodeArgs&) { return true; }

void attention_decode_blocked_run(const AttentionDecodeArgs& args) {
  const int64_t B = args.q.size(0), H = args.q.size(1), hd = args.q.size(2);
  const int64_t S = args.k_cache.size(2), L = args.length;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* q = args.q.data<float>();
  const float* k = args.k_cache.data<float>();
  const float* v = args.v_cache.data<float>();
  float* out = args.out.data<float>();
#pragma omp parallel if (B * H > 1 && B * H * L * hd >= kParallelMin)
  {
    std::vector<float> acc(static_cast<size_t>(hd));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < B * H; ++bh)
      decode_row(q + bh * hd, k + bh * S * hd, v + bh * S * hd, out + bh * hd, acc.data(), L, hd, scale);
  }
}

}  // namespace tinyopt::cpu
