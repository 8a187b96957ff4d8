// Register-tiled int8 micro-kernels and the SIMD output stage of cpu.blocked
// qgemm (see qgemm_blocked.cpp).
//
// A micro-kernel computes one R x NR tile of i32 accumulators,
//   tile[r][j] = sum_k a[r][k] * w[j][k]        (a u8, w s8, no zero point yet),
// entirely in registers over the whole depth K, then stores the tile to a small
// buffer for the fused epilogue. Two instruction paths:
//
// AVX-512 VNNI (`vpdpbusd`): one instruction multiplies 4 u8 by 4 s8 per 32-bit
// lane and adds the four products to the lane's i32 accumulator, exactly (no
// intermediate saturation). Weights are packed in 4-byte K groups: for group g
// and column j, the 4 bytes w[j][4g..4g+3] form one lane, 16 columns per zmm,
// NR = 64 columns per panel (4 zmm). Each step broadcasts the 4 bytes
// a[r][4g..4g+3] of each of the R <= 6 rows and issues R x 4 vpdpbusd into 24
// accumulators (6 x 4 + 4 weight vectors + 1 broadcast of the 32 zmm), the
// same register budget as the FP32 6 x 64 kernel. Note the operand roles:
// vpdpbusd's first source is the unsigned one, so activations (u8) are the
// broadcast register and weights (s8) the vector operand.
//
// AVX2: `vpmaddubsw` (u8 x s8 pairs summed to s16) would be the obvious
// instruction but it saturates: 2 * 255 * 127 = 64770 > 32767, so a pair of
// large activations silently clips. Instead both operands are widened to s16
// before the multiply and `vpmaddwd` sums each pair into an i32 lane, which
// cannot overflow (|pair| <= 64770). Weights are packed pre-widened in 2-value
// K groups (two s16 per lane, 8 columns per ymm, NR = 16 per panel) and each
// call's activations are widened to s16 once while being packed, so the inner
// loop is the VNNI loop's shape: broadcast a pair, multiply-add R x 2 vectors.
//
// Functions carry __attribute__((target(...))) so the project builds without
// -mavx512*; the caller picks a path after checking cpu_info() at run time.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace tinyopt::cpu::qblocked {

inline constexpr int kMr = 6;           // tile rows, both paths
inline constexpr int kNrVnni = 64;      // tile columns: 4 zmm of 16 i32
inline constexpr int kNrAvx2 = 16;      // tile columns: 2 ymm of 8 i32
inline constexpr int kGroupVnni = 4;    // K values per packed lane
inline constexpr int kGroupAvx2 = 2;

inline int32_t load_u32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// a: R rows of u8, row stride lda, each row readable for 4 * groups bytes.
// w: one packed panel, 64 * 4 bytes per group. tile: R x 64 i32, row-major.
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tile_vnni(int64_t groups, const uint8_t* a, int64_t lda,
                                                                       const int8_t* w, int32_t* tile) {
  // Every loop over r and v is fully unrolled, so GCC keeps the accumulator
  // array in registers (a partly unrolled loop makes it spill acc to the stack).
  __m512i acc[R][4];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_setzero_si512();
#pragma GCC unroll 2
  for (int64_t g = 0; g < groups; ++g) {
    const int8_t* wg = w + g * (kNrVnni * kGroupVnni);
    __m512i wv[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) wv[v] = _mm512_load_si512(wg + 64 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i ab = _mm512_set1_epi32(load_u32(a + r * lda + g * kGroupVnni));
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], ab, wv[v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) _mm512_store_si512(tile + r * kNrVnni + v * 16, acc[r][v]);
}

// The one-row VNNI tile (batch-1 inference: a matrix-vector product). With
// one row, tile_vnni<1> has only 4 accumulators and every K group adds to all
// of them, so it waits on vpdpbusd's latency (~5 cycles a group) instead of
// streaming the weights; here 4 consecutive groups go to 4 separate sets of
// accumulators (16 in all), added together at the end (integer addition is
// associative: the result is bit for bit the same).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline void tile_vnni_one_row(int64_t groups,
                                                                                     const uint8_t* a, int64_t,
                                                                                     const int8_t* w, int32_t* tile) {
  constexpr int kSets = 4;
  __m512i acc[kSets][4];
#pragma GCC unroll 4
  for (int u = 0; u < kSets; ++u)
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) acc[u][v] = _mm512_setzero_si512();
  int64_t g = 0;
  for (; g + kSets <= groups; g += kSets) {
#pragma GCC unroll 4
    for (int u = 0; u < kSets; ++u) {
      const int8_t* wg = w + (g + u) * (kNrVnni * kGroupVnni);
      const __m512i ab = _mm512_set1_epi32(load_u32(a + (g + u) * kGroupVnni));
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) acc[u][v] = _mm512_dpbusd_epi32(acc[u][v], ab, _mm512_load_si512(wg + 64 * v));
    }
  }
  for (; g < groups; ++g) {
    const int8_t* wg = w + g * (kNrVnni * kGroupVnni);
    const __m512i ab = _mm512_set1_epi32(load_u32(a + g * kGroupVnni));
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) acc[0][v] = _mm512_dpbusd_epi32(acc[0][v], ab, _mm512_load_si512(wg + 64 * v));
  }
#pragma GCC unroll 4
  for (int v = 0; v < 4; ++v)
    _mm512_store_si512(tile + v * 16, _mm512_add_epi32(_mm512_add_epi32(acc[0][v], acc[1][v]),
                                                       _mm512_add_epi32(acc[2][v], acc[3][v])));
}

// The direct-convolution form of the VNNI tile (qconv2d_blocked.cpp): R
// output pixels of one output row times the first 16 * NV channels of one
// 64-channel weight panel, reading the patches straight from a channels-last
// image instead of an im2col copy. Kernel row i of pixel r is the kw * C
// contiguous bytes at a + i * a_row_step + r * lda; the panel's K runs kernel
// row after kernel row, groups_per_row 4-byte groups each (the row's bytes
// padded with zero weights to a multiple of 4, so a read may run up to 3 bytes
// past a row). A layer with 32 channels or fewer takes NV = 1 or 2 and up to
// 12 pixels per tile, the same 24 accumulators as 6 pixels x 4 vectors.
template <int R, int NV>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tile_vnni_conv(int64_t kernel_rows,
                                                                            int64_t groups_per_row,
                                                                            const uint8_t* a, int64_t lda,
                                                                            int64_t a_row_step, const int8_t* w,
                                                                            int32_t* tile) {
  __m512i acc[R][NV];
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_si512();
  for (int64_t i = 0; i < kernel_rows; ++i) {
    const uint8_t* ai = a + i * a_row_step;
    const int8_t* wi = w + i * groups_per_row * (kNrVnni * kGroupVnni);
#pragma GCC unroll 2
    for (int64_t g = 0; g < groups_per_row; ++g) {
      const int8_t* wg = wi + g * (kNrVnni * kGroupVnni);
      __m512i wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) wv[v] = _mm512_load_si512(wg + 64 * v);
#pragma GCC unroll 12
      for (int r = 0; r < R; ++r) {
        const __m512i ab = _mm512_set1_epi32(load_u32(ai + r * lda + g * kGroupVnni));
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], ab, wv[v]);
      }
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_store_si512(tile + r * kNrVnni + v * 16, acc[r][v]);
}

// a: R rows of s16 (widened u8), row stride lda elements, readable for 2 * groups values.
// w: one packed panel of s16, 16 * 2 values per group. tile: R x 16 i32, row-major.
template <int R>
__attribute__((target("avx2"))) void tile_avx2(int64_t groups, const int16_t* a, int64_t lda, const int16_t* w,
                                               int32_t* tile) {
  __m256i acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
#pragma GCC unroll 2
  for (int64_t g = 0; g < groups; ++g) {
    const int16_t* wg = w + g * (kNrAvx2 * kGroupAvx2);
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(wg + 16));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i ab = _mm256_set1_epi32(load_u32(a + r * lda + g * kGroupAvx2));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(ab, w0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(ab, w1));
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile + r * kNrAvx2), acc[r][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile + r * kNrAvx2 + 8), acc[r][1]);
  }
}

using TileVnniFn = void (*)(int64_t, const uint8_t*, int64_t, const int8_t*, int32_t*);
using TileAvx2Fn = void (*)(int64_t, const int16_t*, int64_t, const int16_t*, int32_t*);
using TileConvFn = void (*)(int64_t, int64_t, const uint8_t*, int64_t, int64_t, const int8_t*, int32_t*);
// Indexed by the number of rows, 1..kMr.
inline constexpr std::array<TileVnniFn, kMr + 1> kTileVnni = {nullptr,       &tile_vnni_one_row, &tile_vnni<2>,
                                                              &tile_vnni<3>, &tile_vnni<4>, &tile_vnni<5>,
                                                              &tile_vnni<6>};
// Most pixels per direct-conv tile for NV vectors of channels.
inline constexpr int kConvRowsMax = 12;
inline constexpr int conv_tile_rows(int nv) { return nv == 4 ? kMr : kConvRowsMax; }
template <int NV, size_t... R>
constexpr std::array<TileConvFn, kConvRowsMax + 1> conv_tiles(std::index_sequence<R...>) {
  return {nullptr, &tile_vnni_conv<static_cast<int>(R) + 1, NV>...};
}
// kTileConv[nv][rows] for nv in {1, 2, 4} (3 vectors use the 4-vector kernel), rows 1..conv_tile_rows(nv).
inline constexpr std::array<std::array<TileConvFn, kConvRowsMax + 1>, 5> kTileConv = {
    std::array<TileConvFn, kConvRowsMax + 1>{}, conv_tiles<1>(std::make_index_sequence<kConvRowsMax>{}),
    conv_tiles<2>(std::make_index_sequence<kConvRowsMax>{}), std::array<TileConvFn, kConvRowsMax + 1>{},
    conv_tiles<4>(std::make_index_sequence<kMr>{})};
inline constexpr std::array<TileAvx2Fn, kMr + 1> kTileAvx2 = {nullptr,       &tile_avx2<1>, &tile_avx2<2>,
                                                              &tile_avx2<3>, &tile_avx2<4>, &tile_avx2<5>,
                                                              &tile_avx2<6>};

// ---- the AVX-512 output stage: 16 accumulators at a time -------------------

// The per-channel constants of the 16-lane requantization, computed once per
// 16 channels instead of once per vector of outputs (a tile row reuses them).
struct Requant16 {
  __m512i mult, mult_odd;      // Q31 multipliers; odd lanes moved down for vpmuldq
  __m512i shift, mask, half;   // shift, 2^shift - 1, (2^shift - 1) / 2
  __m512i lo_rel, hi_rel, zp;  // the clamp relative to the zero point, the zero point
};

__attribute__((target("avx512f"))) inline Requant16 requant16_constants(__m512i mult, __m512i shift,
                                                                        int32_t zero_point, int32_t lo) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, shift), one);
  return {mult,
          _mm512_srli_epi64(mult, 32),
          shift,
          mask,
          _mm512_srli_epi32(mask, 1),
          _mm512_set1_epi32(lo - zero_point),
          _mm512_set1_epi32(255 - zero_point),
          _mm512_set1_epi32(zero_point)};
}

// kernels::requantize for 16 lanes with shifts in [0, 31], bit for bit:
// floor((acc * m + 2^30) / 2^31) (gemmlowp's rounding doubling high multiply),
// then a rounding right shift (half away from zero), the zero point, the clamp.
// The 64-bit products: even lanes keep bits 31..62 by a right shift, odd lanes
// by a left shift of one into their upper half. Clamping to [lo - zp, 255 - zp]
// before adding zp equals clamping after it, and the sum cannot wrap.
__attribute__((target("avx512f"))) inline __m512i requantize16(__m512i acc, const Requant16& k) {
  const __m512i half_up = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(acc, k.mult), half_up), 31);
  const __m512i odd =
      _mm512_slli_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), k.mult_odd), half_up), 1);
  const __m512i high = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  const __m512i remainder = _mm512_and_si512(high, k.mask);
  const __m512i threshold = _mm512_add_epi32(k.half, _mm512_srli_epi32(high, 31));
  __m512i q = _mm512_srav_epi32(high, k.shift);
  q = _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, _mm512_set1_epi32(1));
  q = _mm512_min_epi32(_mm512_max_epi32(q, k.lo_rel), k.hi_rel);
  return _mm512_add_epi32(q, k.zp);
}

}  // namespace tinyopt::cpu::qblocked
