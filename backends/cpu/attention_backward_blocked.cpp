// cpu.blocked attention_backward: dqkv from qkv, the saved weights P and dout.
//
// Per (batch, head), with S = q k^T / sqrt(hd) and P = softmax(S) (causal):
//   dV = P^T dO                     dP = dO V^T
//   dS = P * (dP - rowsum(P * dP))  (softmax backward, per query row)
//   dQ = dS K / sqrt(hd)            dK = dS^T Q / sqrt(hd)
// Only the causal triangle is touched (j <= t): half the work of dense matmuls.
//
// Threads take whole (batch, head) pairs, so every element of dqkv is written
// by exactly one thread, in a fixed order: no atomics, deterministic. A pair
// packs q, k, dO (rows) and v (transposed) into the thread's scratch, keeps
// dK and dV accumulators there (T x hd each: L2-resident at T = 256), and
// walks the queries in blocks of R rows:
//   1. dP tile (R rows x keys 0..t0+R-1), vectorised over keys like the
//      forward's q.k^T (dO . v^T, attention_tiles.h),
//   2. dS in place, the scale folded in; P masked to the causal triangle,
//   3. passes over the keys: dQ rows accumulate in registers (R x hd);
//      dK[j] and dV[j] are loaded once per key and updated for all R rows
//      (q and dO rows held in registers), so each accumulator row is read
//      and written T/R times, not T times.
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)

#include <algorithm>
#include <cmath>

#include "backends/cpu/attention_tiles.h"
#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/scratch_buffer.h"

namespace tinyopt::cpu {

namespace {

using namespace attention_tiles;

constexpr int kMaxRows = 8;

// Query rows per block: each key loop holds R x HDP/W vectors (dQ
// accumulators, q rows or dO rows) plus one key row in registers, and the dP
// tile R x 32/W accumulators; keep both within half of AVX-512's 32 zmm or
// 3/4 of AVX2's 16 ymm. Bigger blocks would fit, but every block also computes
// up to R-1 masked keys past its diagonal: at T = 256 and hd = 32, R = 4 beats
// R = 8 by ~3%.
constexpr int rows_per_block(int w, int hdp) {
  const int budget = w == 16 ? 16 : 12;
  const int nv = hdp / w;
  for (int r = kMaxRows; r > 1; r /= 2)
    if ((r + 1) * nv <= budget && r * int(kKeyChunk / w) <= budget) return r;
  return 1;
}

struct HeadGrad {
  int64_t T, TP, hd;
  float scale;
  const float* q;      // [T][HDP]
  const float* k;      // [T][HDP]
  const float* vt;     // [HDP][TP]
  const float* dout;   // [T][HDP]
  const float* probs;  // this head's [T][T]
  float* dk;           // [T][HDP] accumulators
  float* dv;           // [T][HDP] accumulators
  float* ds;           // [kMaxRows][TP]: dP, then dS
  float* p;            // [kMaxRows][TP]: P restricted to j <= t
  float* dq_out;       // this head's dq columns: row t at dq_out + t * ld
  int64_t ld;
};

template <int W, int HDP, int R>
TINYOPT_SIMD_BODY void backward_rows(const HeadGrad& g, int64_t t0) {
  using V = typename Vec<W>::type;
  constexpr int NV = HDP / W;
  const int64_t keys = t0 + R;  // keys 0 .. t0+R-1 are visible to some row of the block
  // 1. dP[r][j] = dO[t0+r] . v[j]
  for (int64_t j0 = 0; j0 < keys; j0 += kKeyChunk) {
    dot_tile<W, HDP, R>(g.dout + t0 * HDP, g.vt + j0, g.TP, g.ds + j0, g.TP);
  }
  // 2. dS = P * (dP - sum_j P dP) * scale, with P = 0 above the diagonal.
  for (int r = 0; r < R; ++r) {
    const int64_t t = t0 + r;
    const float* prow = g.probs + t * g.T;
    float* dsr = g.ds + r * g.TP;
    float* pr = g.p + r * g.TP;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j <= t; ++j) dot += prow[j] * dsr[j];
#pragma omp simd
    for (int64_t j = 0; j < keys; ++j) {
      const float pj = j <= t ? prow[j] : 0.0f;
      pr[j] = pj;
      dsr[j] = pj * (dsr[j] - dot) * g.scale;
    }
  }
  // 3a. dQ[r] = sum_j dS[r][j] k[j]: R x HDP/W accumulators, one k row load per key.
  V dq[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) dq[r][v] = V{};
  for (int64_t j = 0; j < keys; ++j) {
    V kj[NV];
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) kj[v] = TINYOPT_VLOAD(W, g.k + j * HDP + W * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float s = g.ds[r * g.TP + j];
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) dq[r][v] += s * kj[v];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* dst = g.dq_out + (t0 + r) * g.ld;
    if (g.hd == HDP) {
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) TINYOPT_VSTORE(W, dst + W * v, dq[r][v]);
    } else {
      float tmp[HDP];
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) TINYOPT_VSTORE(W, tmp + W * v, dq[r][v]);
      std::copy_n(tmp, g.hd, dst);
    }
  }
  // 3b. dK[j] += sum_r dS[r][j] q[r]: the block's q rows stay in registers.
  V qr[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) qr[r][v] = TINYOPT_VLOAD(W, g.q + (t0 + r) * HDP + W * v);
  for (int64_t j = 0; j < keys; ++j) {
    V dkj[NV];
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) dkj[v] = TINYOPT_VLOAD(W, g.dk + j * HDP + W * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float s = g.ds[r * g.TP + j];
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) dkj[v] += s * qr[r][v];
    }
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) TINYOPT_VSTORE(W, g.dk + j * HDP + W * v, dkj[v]);
  }
  // 3c. dV[j] += sum_r P[r][j] dO[r]
  V dor[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) dor[r][v] = TINYOPT_VLOAD(W, g.dout + (t0 + r) * HDP + W * v);
  for (int64_t j = 0; j < keys; ++j) {
    V dvj[NV];
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) dvj[v] = TINYOPT_VLOAD(W, g.dv + j * HDP + W * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float pj = g.p[r * g.TP + j];
#pragma GCC unroll 32
      for (int v = 0; v < NV; ++v) dvj[v] += pj * dor[r][v];
    }
#pragma GCC unroll 32
    for (int v = 0; v < NV; ++v) TINYOPT_VSTORE(W, g.dv + j * HDP + W * v, dvj[v]);
  }
}

struct HeadGradTask {
  const float* qkv;    // this batch's rows (stride 3C)
  const float* dout;   // this batch's rows (stride C)
  const float* probs;  // this head's [T][T]
  float* dqkv;         // this batch's rows (stride 3C)
  int64_t T, C, hd, hdp, head;
  float* scratch;
};

int64_t scratch_floats(int64_t T, int64_t hdp) {
  const int64_t tp = round_up(T, kKeyChunk);
  return 6 * tp * hdp + 2 * kMaxRows * tp;
}

template <int W, int HDP>
TINYOPT_SIMD_BODY void backward_head(const HeadGradTask& task) {
  constexpr int R = rows_per_block(W, HDP);
  const int64_t T = task.T, C = task.C, hd = task.hd, TP = round_up(T, kKeyChunk);
  float* q = task.scratch;
  float* k = q + TP * HDP;
  float* vt = k + TP * HDP;
  float* dout = vt + TP * HDP;
  float* dk = dout + TP * HDP;
  float* dv = dk + TP * HDP;
  float* ds = dv + TP * HDP;
  float* p = ds + kMaxRows * TP;
  const float* base = task.qkv + task.head * hd;
  // v rows are parked in dv until transposed into vt.
  pack_rows_multi<3>({base, base + C, base + 2 * C}, 3 * C, T, hd, {1.0f, 1.0f, 1.0f}, {q, k, dv}, HDP);
  transpose_packed(dv, T, HDP, vt, TP);
  pack_rows_multi<1>({task.dout + task.head * hd}, C, T, hd, {1.0f}, {dout}, HDP);
  std::fill(dk, dk + 2 * TP * HDP, 0.0f);  // dk and dv
  const HeadGrad g{T, TP, hd, 1.0f / std::sqrt(static_cast<float>(hd)), q, k, vt, dout, task.probs, dk, dv, ds, p,
                   task.dqkv + task.head * hd, 3 * C};
  int64_t t0 = 0;
  for (; t0 + R <= T; t0 += R) backward_rows<W, HDP, R>(g, t0);
  for (; t0 < T; ++t0) backward_rows<W, HDP, 1>(g, t0);
  for (int64_t t = 0; t < T; ++t) {
    std::copy_n(dk + t * HDP, hd, task.dqkv + t * 3 * C + C + task.head * hd);
    std::copy_n(dv + t * HDP, hd, task.dqkv + t * 3 * C + 2 * C + task.head * hd);
  }
}

TINYOPT_ATTENTION_CLONES(backward_head_isa, backward_head, HeadGradTask)

float* thread_scratch(int64_t floats) {
  static thread_local ScratchFloats scratch;
  return scratch.get(static_cast<size_t>(floats));
}

}  // namespace

bool attention_backward_blocked_supports(const AttentionBackwardArgs& args) {
  const int64_t hd = args.qkv.size(2) / 3 / args.n_head;
  return args.qkv.is_contiguous() && args.probs.is_contiguous() && args.dout.is_contiguous() &&
         args.dqkv.is_contiguous() && hd >= 1 && hd <= kMaxHeadDim;
}

void attention_backward_blocked_run(const AttentionBackwardArgs& args) {
  const int64_t B = args.qkv.size(0), T = args.qkv.size(1), C = args.qkv.size(2) / 3, H = args.n_head;
  const int64_t hd = C / H, hdp = padded_head_dim(hd);
  if (B * T == 0) return;
  const float* qkv = args.qkv.data<float>();
  const float* probs = args.probs.data<float>();
  const float* dout = args.dout.data<float>();
  float* dqkv = args.dqkv.data<float>();
  const int64_t floats = scratch_floats(T, hdp);
#pragma omp parallel if (B * H > 1 && B * H * T * T * hd >= 65536)
  {
    float* scratch = thread_scratch(floats);
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < B * H; ++bh) {
      const int64_t b = bh / H, head = bh % H;
      backward_head_isa({qkv + b * T * 3 * C, dout + b * T * C, probs + bh * T * T, dqkv + b * T * 3 * C, T, C, hd,
                         hdp, head, scratch});
    }
  }
}

}  // namespace tinyopt::cpu
