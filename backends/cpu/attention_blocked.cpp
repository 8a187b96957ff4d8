// cpu.blocked attention: fused causal self-attention with an online softmax
// (the FlashAttention recurrence, on a CPU).
//
// Threads take whole (batch, head) pairs (OpenMP, static: every pair costs the
// same). For its pair a thread packs q (pre-scaled by 1/sqrt(hd)), k
// transposed and v into its scratch (attention_tiles.h: padded head rows,
// key-vectorised tiles), then walks the queries in blocks of R rows. For each
// block it makes ONE pass over its keys, 32 at a time:
//
//   s      = q_block . k_chunk^T                (R x 32 register tile)
//   m_new  = max(m, rowmax(s))
//   p      = exp(s - m_new)                     (causal mask: p = 0 for j > t)
//   l      = l * exp(m - m_new) + rowsum(p)
//   o      = o * exp(m - m_new) + p . v_chunk   (R x hd register tile)
//
// and finally out = o / l. Rescaling by exp(m - m_new) whenever the running max
// grows is what makes one pass enough: the result equals softmax(s) v computed
// with the row's final max, yet the scores of a row never exist all at once,
// so memory traffic is qkv in, out out, whatever T is (the textbook version
// writes and re-reads a T x T matrix per head).
//
// Why probs are still written when asked for (training): attention_backward
// takes the weights as an input, because keeping them (T^2 floats per head,
// written once with streaming stores) costs less on a CPU than recomputing
// q.k^T and the softmax in the backward pass. Online, a chunk's weights are
// only known relative to the running max of that moment, so they wait in the
// block's scratch row (with that max); at the end of the block each chunk is
// multiplied by exp(m_chunk - m_final) / l on its way to probs: one multiply
// per weight, no second exp. Without probs nothing T x T is ever stored.
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backends/cpu/attention_tiles.h"
#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/scratch_buffer.h"
#include "kernels/fast_math.h"

namespace tinyopt::cpu {

namespace {

using namespace attention_tiles;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int kMaxRows = 4;

// Query rows per block for W-lane vectors and padded head width HDP: as many
// as keep the score tile (R x 32/W vectors) and the output tile (R x HDP/W)
// within half of AVX-512's 32 zmm or 3/4 of AVX2's 16 ymm, at most 4 (every
// block also computes up to R-1 masked keys past its diagonal: at T = 256 and
// hd = 32, R = 4 beats R = 8 by ~4%), and dividing kKeyChunk so a block never
// straddles a chunk.
constexpr int rows_per_block(int w, int hdp) {
  const int budget = w == 16 ? 16 : 12;
  const int widest = (kKeyChunk / w > hdp / w) ? int(kKeyChunk / w) : hdp / w;
  for (int r = kMaxRows; r > 1; r /= 2)
    if (r * widest <= budget) return r;
  return 1;
}

// One (batch, head) of the call, with the thread's packed copies.
struct Head {
  int64_t T, TP, hd;  // TP = T rounded up to whole key chunks
  const float* q;     // [T][HDP], scaled by 1/sqrt(hd), zero-padded
  const float* kt;    // [HDP][TP], zero-padded
  const float* v;     // [T][HDP], zero-padded
  float* out;         // this head's columns of out: row t at out + t * out_ld
  int64_t out_ld;
  float* probs;       // this head's [T][T] weights, or null
  float* s;           // scratch [kMaxRows][kKeyChunk]: a block's scores, then weights
  float* chunk_max;   // scratch [kMaxRows][TP / kKeyChunk]: the max each chunk's stored weights are relative to
  float* weights;     // scratch [kMaxRows][TP]: the block's weights until they are final (probs only)
};

// Queries t0 .. t0+R-1 (R divides kKeyChunk, so they share their last chunk).
template <int W, int HDP, int R>
TINYOPT_SIMD_BODY void attend_rows(const Head& h, int64_t t0) {
  using V = typename Vec<W>::type;
  constexpr int NV = HDP / W;
  const int64_t nchunks_max = h.TP / kKeyChunk;
  V o[R][NV];
  float m[R], l[R], alpha[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) o[r][v] = V{};
  for (int r = 0; r < R; ++r) {
    m[r] = kNegInf;
    l[r] = 0.0f;
  }
  // Chunks 0 .. nc-1; only the last one (it holds the diagonal) needs the mask.
  // Every row sees key j0 <= t0 in every chunk, so its max is always finite.
  const int64_t nc = t0 / kKeyChunk + 1;
  for (int64_t c = 0; c < nc; ++c) {
    const int64_t j0 = c * kKeyChunk;
    dot_tile<W, HDP, R>(h.q + t0 * HDP, h.kt + j0, h.TP, h.s, kKeyChunk);
    if (c == nc - 1) {
      for (int r = 0; r < R; ++r) {
        float* sr = h.s + r * kKeyChunk;
#pragma omp simd
        for (int64_t jj = 0; jj < kKeyChunk; ++jj) sr[jj] = j0 + jj > t0 + r ? kNegInf : sr[jj];
      }
    }
    // Online softmax step, per row: new running max, the factor that moves what
    // was accumulated so far onto it, and the chunk's weights relative to it.
    for (int r = 0; r < R; ++r) {
      float* sr = h.s + r * kKeyChunk;
      float chunk_max = kNegInf;
#pragma omp simd reduction(max : chunk_max)
      for (int64_t jj = 0; jj < kKeyChunk; ++jj) chunk_max = sr[jj] > chunk_max ? sr[jj] : chunk_max;
      const float m_new = std::max(m[r], chunk_max);
      alpha[r] = kernels::exp_f32(m[r] - m_new);  // 0 on the first chunk (m = -inf)
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t jj = 0; jj < kKeyChunk; ++jj) {
        const float p = kernels::exp_f32(sr[jj] - m_new);  // masked: exp(-inf) = 0
        sr[jj] = p;
        sum += p;
      }
      l[r] = l[r] * alpha[r] + sum;
      m[r] = m_new;
      if (h.probs != nullptr) {
        std::copy_n(sr, kKeyChunk, h.weights + r * h.TP + j0);
        h.chunk_max[r * nchunks_max + c] = m_new;
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) o[r][v] *= alpha[r];
    // o += p . v over the chunk's keys that some row of the block may see.
    const int64_t keys = std::min(kKeyChunk, t0 + R - j0);
    for (int64_t jj = 0; jj < keys; ++jj) {
      const float* vr = h.v + (j0 + jj) * HDP;
      V vv[NV];
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) vv[v] = TINYOPT_VLOAD(W, vr + W * v);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const float p = h.s[r * kKeyChunk + jj];
#pragma GCC unroll 32
        for (int v = 0; v < NV; ++v) o[r][v] += p * vv[v];
      }
    }
  }
  float inv_l[R];
  for (int r = 0; r < R; ++r) inv_l[r] = 1.0f / l[r];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* orow = h.out + (t0 + r) * h.out_ld;
    if (h.hd == HDP) {
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) TINYOPT_VSTORE(W, orow + W * v, o[r][v] * inv_l[r]);
    } else {
      float tmp[HDP];
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) TINYOPT_VSTORE(W, tmp + W * v, o[r][v] * inv_l[r]);
      std::copy_n(tmp, h.hd, orow);
    }
  }
  if (h.probs == nullptr) return;
  // Write the rows of probs once, final: every chunk's weights moved from its
  // running max onto the row's final max and normalised, zeros past the
  // diagonal. probs is T^2 floats per head, far larger than the caches, and is
  // next read by the backward pass: streaming (non-temporal) stores skip the
  // read-for-ownership of each line and keep it from evicting q, k and v.
  for (int r = 0; r < R; ++r) {
    float* prow = h.probs + (t0 + r) * h.T;
    const float* wrow = h.weights + r * h.TP;
    const bool stream = reinterpret_cast<uintptr_t>(prow) % 16 == 0;
    for (int64_t j0 = 0; j0 < h.T; j0 += kKeyChunk) {
      const int64_t c = j0 / kKeyChunk;
      const float f = c < nc ? kernels::exp_f32(h.chunk_max[r * nchunks_max + c] - m[r]) * inv_l[r] : 0.0f;
      if (stream && j0 + kKeyChunk <= h.T) {
        // 16-byte SSE streaming stores exist in every clone (SSE is baseline
        // x86-64); the write-combining buffer merges them into whole lines.
        if (c < nc) {
          const __m128 fv = _mm_set1_ps(f);
#pragma GCC unroll 8
          for (int64_t k = 0; k < kKeyChunk; k += 4) {
            _mm_stream_ps(prow + j0 + k, _mm_mul_ps(_mm_loadu_ps(wrow + j0 + k), fv));
          }
        } else {
#pragma GCC unroll 8
          for (int64_t k = 0; k < kKeyChunk; k += 4) _mm_stream_ps(prow + j0 + k, _mm_setzero_ps());
        }
      } else {
        const int64_t n = std::min(kKeyChunk, h.T - j0);
        for (int64_t jj = 0; jj < n; ++jj) prow[j0 + jj] = c < nc ? wrow[j0 + jj] * f : 0.0f;
      }
    }
  }
}

struct HeadTask {
  const float* qkv;  // row t of this batch at qkv + t * 3C
  float* out;        // row t of this batch at out + t * C
  float* probs;      // this head's [T][T] or null
  int64_t T, C, hd, hdp, head;
  float* scratch;    // scratch_floats(T, hdp)
};

int64_t scratch_floats(int64_t T, int64_t hdp) {
  const int64_t tp = round_up(T, kKeyChunk);
  return 4 * tp * hdp + kMaxRows * kKeyChunk + kMaxRows * (tp / kKeyChunk) + kMaxRows * tp;
}

template <int W, int HDP>
TINYOPT_SIMD_BODY void attend_head(const HeadTask& task) {
  constexpr int R = rows_per_block(W, HDP);
  const int64_t T = task.T, C = task.C, hd = task.hd, TP = round_up(T, kKeyChunk);
  float* q = task.scratch;
  float* kt = q + TP * HDP;
  float* v = kt + TP * HDP;
  float* s = v + TP * HDP;
  float* chunk_max = s + kMaxRows * kKeyChunk;
  float* weights = chunk_max + kMaxRows * (TP / kKeyChunk);
  float* k = weights + kMaxRows * TP;  // k rows, before the transpose
  const float* base = task.qkv + task.head * hd;
  pack_rows_multi<3>({base, base + C, base + 2 * C}, 3 * C, T, hd,
                     {1.0f / std::sqrt(static_cast<float>(hd)), 1.0f, 1.0f}, {q, k, v}, HDP);
  transpose_packed(k, T, HDP, kt, TP);
  const Head h{T, TP, hd, q, kt, v, task.out + task.head * hd, C, task.probs, s, chunk_max, weights};
  int64_t t0 = 0;
  for (; t0 + R <= T; t0 += R) attend_rows<W, HDP, R>(h, t0);
  for (; t0 < T; ++t0) attend_rows<W, HDP, 1>(h, t0);
}

TINYOPT_ATTENTION_CLONES(attend_head_isa, attend_head, HeadTask)

float* thread_scratch(int64_t floats) {
  static thread_local ScratchFloats scratch;
  return scratch.get(static_cast<size_t>(floats));
}

}  // namespace

bool attention_blocked_supports(const AttentionArgs& args) {
  const int64_t hd = args.qkv.size(2) / 3 / args.n_head;
  return args.qkv.is_contiguous() && args.out.is_contiguous() &&
         (!args.probs.defined() || args.probs.is_contiguous()) && hd >= 1 && hd <= kMaxHeadDim;
}

void attention_blocked_run(const AttentionArgs& args) {
  const int64_t B = args.qkv.size(0), T = args.qkv.size(1), C = args.qkv.size(2) / 3, H = args.n_head;
  const int64_t hd = C / H, hdp = padded_head_dim(hd);
  if (B * T == 0) return;
  const float* qkv = args.qkv.data<float>();
  float* out = args.out.data<float>();
  float* probs = args.probs.defined() ? args.probs.data<float>() : nullptr;
  const int64_t floats = scratch_floats(T, hdp);
#pragma omp parallel if (B * H > 1 && B * H * T * T * hd >= 65536)
  {
    float* scratch = thread_scratch(floats);
#pragma omp for schedule(static) nowait
    for (int64_t bh = 0; bh < B * H; ++bh) {
      const int64_t b = bh / H, head = bh % H;
      attend_head_isa(
          {qkv + b * T * 3 * C, out + b * T * C, probs ? probs + bh * T * T : nullptr, T, C, hd, hdp, head, scratch});
    }
    // Streaming stores are weakly ordered: each thread fences its own before
    // the region's closing barrier hands probs to whoever reads it next.
    if (probs != nullptr) _mm_sfence();
  }
}

}  // namespace tinyopt::cpu
