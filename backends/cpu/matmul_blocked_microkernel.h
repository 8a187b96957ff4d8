// Register-tiled micro-kernels for cpu.blocked matmul (see matmul_blocked.cpp).
//
// A micro-kernel computes one small tile of C, R rows x NR columns, entirely
// in SIMD registers:  C_tile (+)= A_panel[R x kc] * B_panel[kc x NR].
// Each step p of the k loop loads one row of the B panel (NR / W vectors of W
// floats), broadcasts each of the R values A[r][p], and issues R * NR / W fused
// multiply-adds into R * NR / W accumulators. Every B vector loaded feeds R
// FMAs and every broadcast feeds NR / W, so loads per FMA shrink as the tile
// grows; the tile is made as large as the register file allows. With 32 zmm
// registers: 6 x 64 = 24 accumulators + 4 B vectors + 1 broadcast. 24
// independent accumulators also hide the FMA latency (4 cycles on Zen 4, at
// one 512-bit FMA per cycle, so at least 4 chains must be in flight).
//
// Operand layouts:
//   a: A[r][p] = a[r * a_rs + p * a_ps]. Packed micro-panels are k-major
//      (a_rs = 1, a_ps = MR); a row-major A is read in place (a_rs = lda, a_ps = 1).
//   b: B[p][j] = b[p * ldb + j]; ldb = NR when packed, or the row stride of a
//      row-major B read in place.
//   c: the C tile, row-major with leading dimension ldc; only the first n_valid
//      columns are touched (masked loads/stores), so edge tiles never write
//      outside C. accumulate = false overwrites C (first k block), true adds.
//
// Each kernel is a template instantiated for every R = 1..MR and every vector
// count, so a 1-row or 10-column edge tile does not pay for a full tile.
// Functions carry __attribute__((target(...))) so the project builds without
// -mavx512f; the caller picks a kernel after checking cpu_info() at run time.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

namespace tinyopt::cpu::blocked {

using MicroKernelFn = void (*)(int64_t kc, const float* a, int64_t a_rs, int64_t a_ps, const float* b, int64_t ldb,
                               float* c, int64_t ldc, int64_t n_valid, bool accumulate);
using DotKernelFn = void (*)(int64_t k, const float* a, int64_t lda, const float* bt, int64_t ldb, float* c,
                             int64_t ldc, int cols);

inline constexpr int kMaxMr = 8, kMaxNv = 4;
inline constexpr int kDotRows = 4, kDotCols = 4;  // tile of the dot-product kernels
using KernelRows = std::array<MicroKernelFn, kMaxMr + 1>;

struct MicroKernel {
  const char* isa;
  int mr;   // full tile height (rows of C)
  int nr;   // full tile width (columns of C)
  int vec;  // floats per SIMD vector; a tile `cols` wide runs on ceil(cols / vec) vectors
  std::array<KernelRows, kMaxNv + 1> tile;         // tile[v][r]: r rows x v vectors (1 <= r <= mr)
  std::array<DotKernelFn, kDotRows + 1> dot_rows;  // dot_rows[r]: r rows x kDotCols columns
};

// ---- AVX-512: R x (16 * NV) tile, zmm registers --------------------------------
template <int R, int NV>
__attribute__((target("avx512f"))) void microkernel_avx512(int64_t kc, const float* a, int64_t a_rs, int64_t a_ps,
                                                           const float* b, int64_t ldb, float* c, int64_t ldc,
                                                           int64_t n_valid, bool accumulate) {
  __m512 acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * a_rs]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += a_ps;
    b += ldb;
  }

  // Column masks: lane j of vector v is live when 16 * v + j < n_valid.
  __mmask16 mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int64_t left = n_valid - 16 * v;
    mask[v] = left >= 16 ? __mmask16(0xFFFF) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* dst = c + r * ldc + 16 * v;
      __m512 x = acc[r][v];
      if (accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask[v], dst));
      _mm512_mask_storeu_ps(dst, mask[v], x);
    }
  }
}

// ---- AVX2 + FMA: R x (8 * NV) tile, ymm registers (16 of them) ----------------
template <int R, int NV>
__attribute__((target("avx2,fma"))) void microkernel_avx2(int64_t kc, const float* a, int64_t a_rs, int64_t a_ps,
                                                          const float* b, int64_t ldb, float* c, int64_t ldc,
                                                          int64_t n_valid, bool accumulate) {
  __m256 acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * a_rs);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += a_ps;
    b += ldb;
  }

  // AVX2 masks are vectors: lane j of vector v is live when 8 * v + j < n_valid.
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int64_t left = n_valid - 8 * v;
    const int clamped = left < 0 ? 0 : left > 8 ? 8 : static_cast<int>(left);
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(clamped), lane);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* dst = c + r * ldc + 8 * v;
      __m256 x = acc[r][v];
      if (n_valid >= 8 * NV) {  // full tile: plain loads/stores (vmaskmovps is slow on AMD)
        if (accumulate) x = _mm256_add_ps(x, _mm256_loadu_ps(dst));
        _mm256_storeu_ps(dst, x);
        continue;
      }
      if (accumulate) x = _mm256_add_ps(x, _mm256_maskload_ps(dst, mask[v]));
      _mm256_maskstore_ps(dst, mask[v], x);
    }
  }
}

// ---- Portable fallback: plain C++ (the compiler may still use SSE2) ------------
template <int R, int NR>
void microkernel_scalar(int64_t kc, const float* a, int64_t a_rs, int64_t a_ps, const float* b, int64_t ldb, float* c,
                        int64_t ldc, int64_t n_valid, bool accumulate) {
  float acc[R][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < NR; ++j) acc[r][j] += a[r * a_rs] * b[j];
    a += a_ps;
    b += ldb;
  }
  const int cols = n_valid < NR ? static_cast<int>(n_valid) : NR;
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < cols; ++j) c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

// ---- Dot-product kernels: small M with transposed B ---------------------------
// x @ W^T with W stored [out, in] (a Linear layer at batch 1) has rows of A and
// rows of stored B both contiguous in k: each C element is a dot product, and
// packing B (a transpose) would cost more than the whole multiply. These
// kernels compute R rows x 4 columns of C at once, SIMD along k, then reduce:
// 4 + R loads feed 4R FMAs. bt points at row j0 of stored B; only the first
// `cols` of the 4 columns exist.

// Horizontal sums by halving. (The all-ones-mask forms of the AVX-512 shuffles
// are used because GCC 12's plain forms trip -Wuninitialized.)
__attribute__((target("avx512f"))) inline float hsum_avx512(__m512 v) {
  const __mmask16 all = 0xFFFF;
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, all, v, v, 0x4E));  // + the other 256-bit half
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, all, v, v, 0xB1));  // + the neighbouring 128-bit lane
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, all, v, 0x4E));        // + the other pair of floats
  v = _mm512_add_ps(v, _mm512_mask_permute_ps(v, all, v, 0xB1));        // + the neighbouring float
  return _mm512_cvtss_f32(v);
}
__attribute__((target("avx2"))) inline float hsum_avx2(__m256 v) {
  v = _mm256_add_ps(v, _mm256_permute2f128_ps(v, v, 0x01));
  v = _mm256_add_ps(v, _mm256_permute_ps(v, 0x4E));
  v = _mm256_add_ps(v, _mm256_permute_ps(v, 0xB1));
  return _mm256_cvtss_f32(v);
}

template <int R>
__attribute__((target("avx512f"))) void dotkernel_avx512(int64_t k, const float* a, int64_t lda, const float* bt,
                                                         int64_t ldb, float* c, int64_t ldc, int cols) {
  const float* brow[kDotCols];
  for (int j = 0; j < kDotCols; ++j) brow[j] = bt + (j < cols ? j : 0) * ldb;  // missing columns repeat column 0
  __m512 acc[R][kDotCols];
#pragma GCC unroll 16
  for (int i = 0; i < R * kDotCols; ++i) acc[i / kDotCols][i % kDotCols] = _mm512_setzero_ps();
  const __mmask16 tail = static_cast<__mmask16>((1u << (k % 16)) - 1);
  for (int64_t p = 0; p < k; p += 16) {
    const __mmask16 live = p + 16 <= k ? __mmask16(0xFFFF) : tail;
    __m512 bv[kDotCols];
#pragma GCC unroll 4
    for (int j = 0; j < kDotCols; ++j) bv[j] = _mm512_maskz_loadu_ps(live, brow[j] + p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_maskz_loadu_ps(live, a + r * lda + p);
#pragma GCC unroll 4
      for (int j = 0; j < kDotCols; ++j) acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
    }
  }
  float out[R][kDotCols];
#pragma GCC unroll 16
  for (int i = 0; i < R * kDotCols; ++i) out[i / kDotCols][i % kDotCols] = hsum_avx512(acc[i / kDotCols][i % kDotCols]);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < cols; ++j) c[r * ldc + j] = out[r][j];
}

template <int R>
__attribute__((target("avx2,fma"))) void dotkernel_avx2(int64_t k, const float* a, int64_t lda, const float* bt,
                                                        int64_t ldb, float* c, int64_t ldc, int cols) {
  const float* brow[kDotCols];
  for (int j = 0; j < kDotCols; ++j) brow[j] = bt + (j < cols ? j : 0) * ldb;
  __m256 acc[R][kDotCols];
#pragma GCC unroll 16
  for (int i = 0; i < R * kDotCols; ++i) acc[i / kDotCols][i % kDotCols] = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 bv[kDotCols];
#pragma GCC unroll 4
    for (int j = 0; j < kDotCols; ++j) bv[j] = _mm256_loadu_ps(brow[j] + p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_loadu_ps(a + r * lda + p);
#pragma GCC unroll 4
      for (int j = 0; j < kDotCols; ++j) acc[r][j] = _mm256_fmadd_ps(av, bv[j], acc[r][j]);
    }
  }
  float out[R][kDotCols];
#pragma GCC unroll 16
  for (int i = 0; i < R * kDotCols; ++i) out[i / kDotCols][i % kDotCols] = hsum_avx2(acc[i / kDotCols][i % kDotCols]);
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < cols; ++j) {
      for (int64_t q = p; q < k; ++q) out[r][j] += a[r * lda + q] * brow[j][q];  // k tail
      c[r * ldc + j] = out[r][j];
    }
}

template <int R>
void dotkernel_scalar(int64_t k, const float* a, int64_t lda, const float* bt, int64_t ldb, float* c, int64_t ldc,
                      int cols) {
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < cols; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < k; ++p) sum += a[r * lda + p] * bt[j * ldb + p];
      c[r * ldc + j] = sum;
    }
}

// ---- Packing helper: 8 x 8 transpose with AVX2 --------------------------------
// Packing a transposed B is a transpose: stored rows of B are columns of the
// panel. One float at a time that costs ~1 cycle per element, as much as 10%
// of a 256^3 matmul; in 8 x 8 register blocks it is several times faster.
// Reads `rows` rows of 8 floats at src + r * lds (missing rows read as zeros)
// and writes column p of that block as 8 floats at dst + p * ldd.
__attribute__((target("avx2"))) inline void transpose_8x8_avx2(const float* src, int64_t lds, int rows, float* dst,
                                                               int64_t ldd) {
  __m256 r[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + i * lds) : _mm256_setzero_ps();
  // Three rounds of shuffles: pairs of floats, then pairs of pairs, then 128-bit halves.
  __m256 t[8], u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));        // columns 0..3
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));  // columns 4..7
  }
}

// ---- Tables: every (rows, vectors) instance of the templates above -------------
template <int NV, int... I>
constexpr KernelRows avx512_rows(std::integer_sequence<int, I...>) {
  return {nullptr, &microkernel_avx512<I + 1, NV>...};
}
template <int NV, int... I>
constexpr KernelRows avx2_rows(std::integer_sequence<int, I...>) {
  return {nullptr, &microkernel_avx2<I + 1, NV>...};
}
template <int NR, int... I>
constexpr KernelRows scalar_rows(std::integer_sequence<int, I...>) {
  return {nullptr, &microkernel_scalar<I + 1, NR>...};
}

// AVX-512: 6 x 64 tile = 24 zmm accumulators + 4 B vectors + 1 broadcast (of 32).
inline constexpr MicroKernel kMicroKernelAvx512 = [] {
  constexpr auto rows = std::make_integer_sequence<int, 6>{};
  MicroKernel uk{"avx512f", 6, 64, 16, {}, {}};
  uk.tile = {KernelRows{}, avx512_rows<1>(rows), avx512_rows<2>(rows), avx512_rows<3>(rows), avx512_rows<4>(rows)};
  uk.dot_rows = {nullptr, &dotkernel_avx512<1>, &dotkernel_avx512<2>, &dotkernel_avx512<3>, &dotkernel_avx512<4>};
  return uk;
}();

// AVX2: 6 x 16 tile = 12 ymm accumulators + 2 B vectors + 1 broadcast (of 16).
inline constexpr MicroKernel kMicroKernelAvx2 = [] {
  constexpr auto rows = std::make_integer_sequence<int, 6>{};
  MicroKernel uk{"avx2+fma", 6, 16, 8, {}, {}};
  uk.tile = {KernelRows{}, avx2_rows<1>(rows), avx2_rows<2>(rows)};
  uk.dot_rows = {nullptr, &dotkernel_avx2<1>, &dotkernel_avx2<2>, &dotkernel_avx2<3>, &dotkernel_avx2<4>};
  return uk;
}();

// Portable: 4 x 8 tile of plain floats.
inline constexpr MicroKernel kMicroKernelScalar = [] {
  constexpr auto rows = std::make_integer_sequence<int, 4>{};
  MicroKernel uk{"scalar", 4, 8, 8, {}, {}};
  uk.tile = {KernelRows{}, scalar_rows<8>(rows)};
  uk.dot_rows = {nullptr, &dotkernel_scalar<1>, &dotkernel_scalar<2>, &dotkernel_scalar<3>, &dotkernel_scalar<4>};
  return uk;
}();

}  // namespace tinyopt::cpu::blocked
