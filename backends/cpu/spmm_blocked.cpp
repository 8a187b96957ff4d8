// cpu.blocked spmm: our CSR kernel for sparse linear layers, y = x W^T + b.
//
// Two paths, both parallel over the rows of W (output features) with OpenMP:
//
// * batch < kPanelMinBatch (batch-1 inference): each output is a sparse dot
//   product of one CSR row with x's row. The columns of a row are gathered
//   from x 16 (AVX-512) or 8 (AVX2) at a time and multiplied by the
//   contiguous values; two accumulators hide the FMA latency.
// * larger batches: the work is vectorised *across the batch*. A panel of up
//   to 64 (AVX-512) or 32 (AVX2) batch rows of x is packed transposed,
//   xp[k][i] (zero-padded to whole vectors), so every stored weight W[n, k]
//   becomes one broadcast and up to four FMAs on the contiguous xp[k][*]: no
//   gathers, each weight read once per panel, and the packed panel
//   (K x 64 floats = 200 KB for K = 784) stays in L2 while all rows stream
//   past it. Outputs of 16 rows are collected in a small tile and written back
//   transposed into y's row-major layout. Threads split the batch (see
//   spmm_panels): a version that split the rows of W and shared one packed
//   panel between threads ran 2-3x slower at 2 threads than at 1 on this
//   shared machine (two barriers per call and the panel crossing cores).
//
// The instruction set is chosen at run time (backends/cpu/simd_clones.h: AVX-512, AVX2+FMA or a
// scalar baseline), never at compile time.
#include <immintrin.h>

#include <omp.h>

#include <algorithm>

#include "backends/cpu/cpu_kernels_sparse.h"
#include "backends/cpu/scratch_buffer.h"
#include "backends/cpu/simd_clones.h"

namespace tinyopt::cpu {

namespace {

// Below this batch the gather path wins: a panel would leave most SIMD lanes on padding.
constexpr int64_t kPanelMinBatch = 4;
// Below this many multiply-adds one thread is faster than waking the pool
// (measured on the MLP's layers at 2 threads: the gather path gains from 4k
// on; the panel path, which also packs x, only from ~64k).
constexpr int64_t kParallelMinWork = 4 * 1024;
constexpr int64_t kPanelParallelMinWork = 64 * 1024;
constexpr int64_t kTileRows = 16;

template <class Index>
struct Csr {
  const Index* row_ptr;
  const int32_t* col_idx;
  const float* values;
  const float* bias;  // may be null
  int64_t n, k;
};

// ---- gather path (small batches) -----------------------------------------

// GCC 12's AVX-512 intrinsic headers build several instructions from an
// "undefined" register (_mm512_undefined_ps, a self-initialised variable) that
// -Wuninitialized flags once inlined here: a false positive in the system
// headers, silenced for this file's kernels only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // a GCC-only warning (clang does not know the flag)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

TINYOPT_TARGET_AVX512 inline __m512 gather16(const int32_t* idx, const float* x) {
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), static_cast<__mmask16>(0xFFFF), _mm512_loadu_si512(idx), x, 4);
}

TINYOPT_TARGET_AVX512 inline float sum16(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));  // fold 512 -> 256 bits
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));  // fold 256 -> 128 bits
  __m128 q = _mm512_castps512_ps128(v);
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}

TINYOPT_TARGET_AVX512 inline float dot_gather_avx512(const int32_t* ci, const float* v, int64_t len, const float* x) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= len; j += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j), gather16(ci + j, x), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j + 16), gather16(ci + j + 16, x), acc1);
  }
  if (j + 16 <= len) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j), gather16(ci + j, x), acc0);
    j += 16;
  }
  if (j < len) {  // masked tail: lanes past the row neither load nor gather
    const __mmask16 mask = static_cast<__mmask16>((1u << (len - j)) - 1);
    const __m512i idx = _mm512_maskz_loadu_epi32(mask, ci + j);
    const __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, idx, x, 4);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, v + j), g, acc1);
  }
  return sum16(_mm512_add_ps(acc0, acc1));
}

TINYOPT_TARGET_AVX2 inline float dot_gather_avx2(const int32_t* ci, const float* v, int64_t len, const float* x) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= len; j += 16) {
    const __m256i i0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ci + j));
    const __m256i i1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ci + j + 8));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + j), _mm256_i32gather_ps(x, i0, 4), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(v + j + 8), _mm256_i32gather_ps(x, i1, 4), acc1);
  }
  acc0 = _mm256_add_ps(acc0, acc1);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  float sum = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
  for (; j < len; ++j) sum += v[j] * x[ci[j]];
  return sum;
}

inline float dot_gather_base(const int32_t* ci, const float* v, int64_t len, const float* x) {
  float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int64_t j = 0;
  for (; j + 4 <= len; j += 4) {
    a0 += v[j] * x[ci[j]];
    a1 += v[j + 1] * x[ci[j + 1]];
    a2 += v[j + 2] * x[ci[j + 2]];
    a3 += v[j + 3] * x[ci[j + 3]];
  }
  for (; j < len; ++j) a0 += v[j] * x[ci[j]];
  return (a0 + a1) + (a2 + a3);
}

// Rows [r0, r1) of W against batch rows 0..m of x, the dot product inlined
// into one loop per ISA so consecutive rows overlap in the out-of-order core
// (no call per row).
template <class Index, float (*Dot)(const int32_t*, const float*, int64_t, const float*)>
inline void gather_rows(const Csr<Index>& w, const float* x, float* y, int64_t m, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t begin = int64_t(w.row_ptr[r]), len = int64_t(w.row_ptr[r + 1]) - begin;
    const float b = w.bias ? w.bias[r] : 0.0f;
    for (int64_t i = 0; i < m; ++i) y[i * w.n + r] = b + Dot(w.col_idx + begin, w.values + begin, len, x + i * w.k);
  }
}

template <class Index>
TINYOPT_TARGET_AVX512 void gather_rows_avx512(const Csr<Index>& w, const float* x, float* y, int64_t m, int64_t r0,
                                              int64_t r1) {
  gather_rows<Index, dot_gather_avx512>(w, x, y, m, r0, r1);
}
template <class Index>
TINYOPT_TARGET_AVX2 void gather_rows_avx2(const Csr<Index>& w, const float* x, float* y, int64_t m, int64_t r0,
                                          int64_t r1) {
  gather_rows<Index, dot_gather_avx2>(w, x, y, m, r0, r1);
}
template <class Index>
void gather_rows_base(const Csr<Index>& w, const float* x, float* y, int64_t m, int64_t r0, int64_t r1) {
  gather_rows<Index, dot_gather_base>(w, x, y, m, r0, r1);
}

template <class Index>
void spmm_gather(const Csr<Index>& w, const float* x, float* y, int64_t m) {
  using RowsFn = void (*)(const Csr<Index>&, const float*, float*, int64_t, int64_t, int64_t);
  static const RowsFn rows = simd_pick<RowsFn>(&gather_rows_avx512<Index>, &gather_rows_avx2<Index>,
                                               &gather_rows_base<Index>);
  const int64_t nnz = int64_t(w.row_ptr[w.n]);
  const int threads = nnz * m >= kParallelMinWork ? omp_get_max_threads() : 1;
  if (threads <= 1) {
    rows(w, x, y, m, 0, w.n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t per = (w.n + nt - 1) / nt;
    rows(w, x, y, m, std::min(w.n, t * per), std::min(w.n, (t + 1) * per));
  }
}

// ---- panel path (batch across SIMD lanes) ---------------------------------

// One CSR row times the packed panel: out[0 .. NV*16) = b + sum_j v[j] * xp[col[j]][*].
// Two sets of accumulators (even and odd stored weights) keep two FMA chains in flight.
template <int NV>
TINYOPT_TARGET_AVX512 inline void row_panel_avx512(const int32_t* ci, const float* v, int64_t len, const float* xp,
                                                   int64_t p, float b, float* out) {
  __m512 a[NV], c[NV];
  for (int q = 0; q < NV; ++q) a[q] = _mm512_set1_ps(b), c[q] = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 2 <= len; j += 2) {
    const __m512 v0 = _mm512_set1_ps(v[j]), v1 = _mm512_set1_ps(v[j + 1]);
    const float* x0 = xp + int64_t(ci[j]) * p;
    const float* x1 = xp + int64_t(ci[j + 1]) * p;
    for (int q = 0; q < NV; ++q) {
      a[q] = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 16 * q), a[q]);
      c[q] = _mm512_fmadd_ps(v1, _mm512_load_ps(x1 + 16 * q), c[q]);
    }
  }
  if (j < len) {
    const __m512 v0 = _mm512_set1_ps(v[j]);
    const float* x0 = xp + int64_t(ci[j]) * p;
    for (int q = 0; q < NV; ++q) a[q] = _mm512_fmadd_ps(v0, _mm512_load_ps(x0 + 16 * q), a[q]);
  }
  for (int q = 0; q < NV; ++q) _mm512_store_ps(out + 16 * q, _mm512_add_ps(a[q], c[q]));
}

template <int NV>
TINYOPT_TARGET_AVX2 inline void row_panel_avx2(const int32_t* ci, const float* v, int64_t len, const float* xp,
                                               int64_t p, float b, float* out) {
  __m256 a[NV], c[NV];
  for (int q = 0; q < NV; ++q) a[q] = _mm256_set1_ps(b), c[q] = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 2 <= len; j += 2) {
    const __m256 v0 = _mm256_set1_ps(v[j]), v1 = _mm256_set1_ps(v[j + 1]);
    const float* x0 = xp + int64_t(ci[j]) * p;
    const float* x1 = xp + int64_t(ci[j + 1]) * p;
    for (int q = 0; q < NV; ++q) {
      a[q] = _mm256_fmadd_ps(v0, _mm256_load_ps(x0 + 8 * q), a[q]);
      c[q] = _mm256_fmadd_ps(v1, _mm256_load_ps(x1 + 8 * q), c[q]);
    }
  }
  if (j < len) {
    const __m256 v0 = _mm256_set1_ps(v[j]);
    const float* x0 = xp + int64_t(ci[j]) * p;
    for (int q = 0; q < NV; ++q) a[q] = _mm256_fmadd_ps(v0, _mm256_load_ps(x0 + 8 * q), a[q]);
  }
  for (int q = 0; q < NV; ++q) _mm256_store_ps(out + 8 * q, _mm256_add_ps(a[q], c[q]));
}

// Scalar baseline with the same structure (p lanes, any p).
inline void row_panel_base(const int32_t* ci, const float* v, int64_t len, const float* xp, int64_t p, float b,
                           float* out) {
  for (int64_t q = 0; q < p; ++q) out[q] = b;
  for (int64_t j = 0; j < len; ++j) {
    const float* x0 = xp + int64_t(ci[j]) * p;
    for (int64_t q = 0; q < p; ++q) out[q] += v[j] * x0[q];
  }
}

using RowPanelFn = void (*)(const int32_t*, const float*, int64_t, const float*, int64_t, float, float*);

struct PanelIsa {
  int64_t lanes;           // floats per vector
  RowPanelFn rows[5];      // indexed by vectors per panel (1..4)
};

PanelIsa panel_isa() {
  switch (simd_isa()) {
    case SimdIsa::avx512:
      return {16, {nullptr, &row_panel_avx512<1>, &row_panel_avx512<2>, &row_panel_avx512<3>, &row_panel_avx512<4>}};
    case SimdIsa::avx2:
      return {8, {nullptr, &row_panel_avx2<1>, &row_panel_avx2<2>, &row_panel_avx2<3>, &row_panel_avx2<4>}};
    case SimdIsa::base: break;
  }
  return {4, {nullptr, &row_panel_base, &row_panel_base, &row_panel_base, &row_panel_base}};
}

#pragma GCC diagnostic pop

// Batch rows [begin, end) on the calling thread: its own packed panel, all rows of W.
template <class Index>
void spmm_panel_range(const PanelIsa& isa, const Csr<Index>& w, const float* x, float* y, int64_t begin,
                      int64_t end) {
  const int64_t max_panel = 4 * isa.lanes;
  static thread_local ScratchFloats packed_buffer, tile_buffer;
  float* packed = packed_buffer.get(static_cast<size_t>(std::max<int64_t>(w.k, 1) * max_panel));
  float* tile = tile_buffer.get(static_cast<size_t>(kTileRows * max_panel));
  for (int64_t m0 = begin; m0 < end; m0 += max_panel) {
    const int64_t width = std::min(max_panel, end - m0);
    const int64_t nv = (width + isa.lanes - 1) / isa.lanes;
    const int64_t p = nv * isa.lanes;  // packed row length (zero padding past width)
    const RowPanelFn row_fn = isa.rows[nv];
    // Pack transposed, xp[k][i] = x[m0 + i][k], 16 columns of x at a time so
    // the 16 destination rows being filled stay in L1.
    for (int64_t k0 = 0; k0 < w.k; k0 += 16) {
      const int64_t k1 = std::min(w.k, k0 + 16);
      for (int64_t i = 0; i < width; ++i) {
        const float* src = x + (m0 + i) * w.k;
        for (int64_t k = k0; k < k1; ++k) packed[k * p + i] = src[k];
      }
      for (int64_t k = k0; k < k1; ++k)
        for (int64_t i = width; i < p; ++i) packed[k * p + i] = 0.0f;
    }
    for (int64_t r0 = 0; r0 < w.n; r0 += kTileRows) {
      const int64_t rows = std::min(kTileRows, w.n - r0);
      for (int64_t t = 0; t < rows; ++t) {
        const int64_t r = r0 + t, first = int64_t(w.row_ptr[r]);
        row_fn(w.col_idx + first, w.values + first, int64_t(w.row_ptr[r + 1]) - first, packed, p,
               w.bias ? w.bias[r] : 0.0f, tile + t * p);
      }
      for (int64_t i = 0; i < width; ++i) {
        float* yi = y + (m0 + i) * w.n + r0;
        for (int64_t t = 0; t < rows; ++t) yi[t] = tile[t * p + i];
      }
    }
  }
}

// Threads split the *batch*, in whole vectors: each packs only its own rows of
// x and writes only its own rows of y, so there is one fork/join per call and
// no barrier or shared scratch in between (W's CSR is only read).
template <class Index>
void spmm_panels(const Csr<Index>& w, const float* x, float* y, int64_t m) {
  static const PanelIsa isa = panel_isa();
  const int64_t nnz = int64_t(w.row_ptr[w.n]);
  const int64_t chunks = (m + isa.lanes - 1) / isa.lanes;
  const int threads =
      (nnz + w.k) * m >= kPanelParallelMinWork ? int(std::min<int64_t>(omp_get_max_threads(), chunks)) : 1;
  if (threads <= 1) {
    spmm_panel_range(isa, w, x, y, 0, m);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t per = (chunks + nt - 1) / nt * isa.lanes;
    spmm_panel_range(isa, w, x, y, std::min(m, t * per), std::min(m, (t + 1) * per));
  }
}

template <class Index>
void spmm_blocked(const SpmmArgs& a) {
  const Csr<Index> w{a.row_ptr.data<Index>(), a.col_idx.data<int32_t>(), a.values.data<float>(),
                     a.bias.defined() ? a.bias.data<float>() : nullptr, a.n(), a.k()};
  if (a.m() < kPanelMinBatch) spmm_gather(w, a.x.data<float>(), a.y.data<float>(), a.m());
  else spmm_panels(w, a.x.data<float>(), a.y.data<float>(), a.m());
}

}  // namespace

void spmm_blocked_run(const SpmmArgs& a) {
  if (a.row_ptr.dtype() == DType::i32) spmm_blocked<int32_t>(a);
  else spmm_blocked<int64_t>(a);
}

}  // namespace tinyopt::cpu
