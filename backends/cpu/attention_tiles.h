// Register tiles shared by cpu.blocked attention forward and backward
// (attention_blocked.cpp, attention_backward_blocked.cpp).
//
// The kernels are written once on W-lane float vectors (GCC vector
// extensions) and compiled three times by simd_clones.h's targets: W = 16 (one
// zmm) for AVX-512, W = 8 (ymm) for AVX2, W = 4 (xmm) for the baseline. The
// width must match the clone: a 16-lane vector in the AVX2 clone is legal C++
// but GCC then moves it through memory and the kernel runs 20x slower.
//
// Head dimensions are padded to HDP columns (16, 32, 64 or 128, zero-filled),
// so every inner loop has a compile-time trip count and its accumulators live
// in registers; padding 13 -> 16 costs nothing, 33 -> 64 up to 2x, and heads
// wider than kMaxHeadDim are declined by supports().
//
// Keys are processed in chunks of kKeyChunk = 32. A q.k^T tile is R query rows
// x 32 keys *vectorised over keys*: K is packed transposed (kt[d][j]), so each
// step broadcasts q[r][d] and issues R * 32/W FMAs into R * 32/W accumulators.
// A dot product vectorised over the head dimension instead would end every
// (query, key) pair with a horizontal sum, which costs more than the two FMAs
// it finishes when hd = 32.
//
// Loops that hold `#pragma omp simd` loops must not carry `#pragma GCC unroll`:
// once GCC unrolls the outer loop the inner ones lose their simd marking and
// stay scalar. Tile loops (no simd inside) are unrolled so that arrays of
// vectors indexed by them become registers.
#pragma once

#include <cstdint>

#include "backends/cpu/simd_clones.h"

namespace tinyopt::cpu::attention_tiles {

template <int W>
struct Vec {
  typedef float type __attribute__((vector_size(4 * W)));
  typedef float unaligned __attribute__((vector_size(4 * W), aligned(4)));
};

// Loads/stores as macros, not functions: a function taking or returning a
// wide vector changes ABI with the ISA, which GCC (rightly) warns about when
// the baseline clone sees it.
#define TINYOPT_VLOAD(W, p) (*reinterpret_cast<const typename ::tinyopt::cpu::attention_tiles::Vec<W>::unaligned*>(p))
#define TINYOPT_VSTORE(W, p, v) (*reinterpret_cast<typename ::tinyopt::cpu::attention_tiles::Vec<W>::unaligned*>(p) = (v))

constexpr int64_t kKeyChunk = 32;
constexpr int64_t kMaxHeadDim = 128;

inline int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
// Padded head width: 16, 32, 64 or 128.
inline int64_t padded_head_dim(int64_t hd) { return hd <= 16 ? 16 : hd <= 32 ? 32 : hd <= 64 ? 64 : 128; }

// dst[r][0:32] = a[r][0:HDP] . bt[0:HDP][0:32] for r < R, where a has row
// stride HDP and bt (a transposed, zero-padded matrix) has row stride ld.
template <int W, int HDP, int R>
TINYOPT_SIMD_BODY void dot_tile(const float* a, const float* bt, int64_t ld, float* dst, int64_t dst_ld) {
  using V = typename Vec<W>::type;
  constexpr int KV = kKeyChunk / W;
  V s[R][KV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int k = 0; k < KV; ++k) s[r][k] = V{};
  for (int64_t d = 0; d < HDP; ++d) {
    V b[KV];
#pragma GCC unroll 8
    for (int k = 0; k < KV; ++k) b[k] = TINYOPT_VLOAD(W, bt + d * ld + k * W);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float ad = a[r * HDP + d];
#pragma GCC unroll 8
      for (int k = 0; k < KV; ++k) s[r][k] += ad * b[k];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int k = 0; k < KV; ++k) TINYOPT_VSTORE(W, dst + r * dst_ld + k * W, s[r][k]);
}

// Copies `rows` rows of `cols` floats (source row stride src_ld) of N
// matrices that share their source rows (q, k and v of one head sit in the
// same qkv row) into dst rows of hdp floats, scaled and zero-padded. One pass,
// with the rows a few steps ahead prefetched. qkv is read with a stride of 3C floats and only 2 lines
// per row and matrix, which the hardware prefetcher follows poorly; separate
// passes left the kernel waiting on L3 for ~20% of its time.
template <int N>
inline void pack_rows_multi(const float* const (&src)[N], int64_t src_ld, int64_t rows, int64_t cols,
                            const float (&scale)[N], float* const (&dst)[N], int64_t hdp) {
  constexpr int64_t kAhead = 8;
  for (int64_t t = 0; t < rows; ++t) {
    for (int i = 0; i < N; ++i) {
      if (t + kAhead < rows) {
        for (int64_t d = 0; d < cols; d += 16) __builtin_prefetch(src[i] + (t + kAhead) * src_ld + d);
      }
      for (int64_t d = 0; d < cols; ++d) dst[i][t * hdp + d] = src[i][t * src_ld + d] * scale[i];
      for (int64_t d = cols; d < hdp; ++d) dst[i][t * hdp + d] = 0.0f;
    }
  }
}

// dst[d][t] = src[t][d] for a packed source (rows of hdp floats, already in
// cache): hdp rows of stride tp, zero-filled for t >= rows. Packing from qkv
// into rows first and transposing here is ~3x faster than scattering straight
// from qkv: the strided reads then hit L1/L2 instead of waiting on qkv's lines
// 32 times over.
inline void transpose_packed(const float* src, int64_t rows, int64_t hdp, float* dst, int64_t tp) {
  for (int64_t d = 0; d < hdp; ++d) {
    float* row = dst + d * tp;
    for (int64_t t = 0; t < rows; ++t) row[t] = src[t * hdp + d];
    for (int64_t t = rows; t < tp; ++t) row[t] = 0.0f;
  }
}

}  // namespace tinyopt::cpu::attention_tiles

// Defines `static void name(const Task&)` running body<W, HDP>(task) for the
// task's padded head width HDP, compiled per ISA (W = 16 / 8 / 4), the best
// one picked at first use.
#define TINYOPT_ATTENTION_CLONES(name, body, Task)                                                      \
  template <int W>                                                                                      \
  TINYOPT_SIMD_BODY void name##_any(const Task& task) {                                                 \
    switch (task.hdp) {                                                                                 \
      case 16: body<W, 16>(task); break;                                                                \
      case 32: body<W, 32>(task); break;                                                                \
      case 64: body<W, 64>(task); break;                                                                \
      default: body<W, 128>(task); break;                                                               \
    }                                                                                                   \
  }                                                                                                     \
  TINYOPT_TARGET_AVX512 static void name##_avx512(const Task& task) { name##_any<16>(task); }           \
  TINYOPT_TARGET_AVX2 static void name##_avx2(const Task& task) { name##_any<8>(task); }                \
  static void name##_base(const Task& task) { name##_any<4>(task); }                                    \
  static void name(const Task& task) {                                                                  \
    static const auto fn = ::tinyopt::cpu::simd_pick(&name##_avx512, &name##_avx2, &name##_base);       \
    fn(task);                                                                                           \
  }
