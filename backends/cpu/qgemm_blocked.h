// The int8 GEMM engine of cpu.blocked (qgemm_blocked.cpp), shared by qgemm and
// qconv2d (im2col + this GEMM): packed weights cached per weight tensor, and
// one call that multiplies u8 rows by them with the output stage fused.
#pragma once

#include <cstdint>
#include <memory>

#include "backends/cpu/quant_output.h"
#include "core/tensor.h"

namespace tinyopt::cpu {

// Which instruction path cpu.blocked int8 uses. automatic = the best this CPU
// has (AVX-512 VNNI, else AVX2). Tests force avx2 on a VNNI machine to check
// that path too.
enum class QGemmIsa { automatic, avx512_vnni, avx2 };
void qgemm_blocked_force_isa(QGemmIsa isa);
// The path automatic routing resolves to here, or automatic when there is none (no AVX2).
QGemmIsa qgemm_blocked_isa();

// s8 weights [N, K] packed for one path: NR-column panels, K in groups
// (4 u8/s8 lanes for VNNI, 2 s16 for AVX2), zero-padded; plus each column's
// sum over K, for the zero-point correction sum_k (a - za) w = sum_k a w - za sum_k w.
struct PackedQWeights {
  QGemmIsa isa = QGemmIsa::automatic;
  int64_t n = 0, k = 0;
  int64_t groups = 0;        // K groups per panel
  int64_t panels = 0;        // ceil(N / NR)
  int64_t panel_bytes = 0;
  std::shared_ptr<void> data;  // 64-byte aligned
  std::unique_ptr<int32_t[]> col_sums;  // [panels * NR], zero beyond N
  const void* panel(int64_t j) const { return static_cast<const char*>(data.get()) + j * panel_bytes; }
};

// The packed form of w ([N, K] s8, rows = output channels), from the cache or packed now.
std::shared_ptr<const PackedQWeights> packed_qweights(const Tensor& w, int64_t n, int64_t k, QGemmIsa isa);
// Conv weights [O, C, KH, KW] packed with K in (kh, kw, c) order, matching
// channels-last patches (qconv2d_blocked.cpp); cached like the above.
std::shared_ptr<const PackedQWeights> packed_qweights_hwc(const Tensor& w, QGemmIsa isa);
// Conv weights [O, C, KH, KW] for the direct VNNI convolution: the [O, KH * row_bytes]
// matrix w'[o][i * row_bytes + j * C + c] = w[o][c][i][j], each kernel row's kw * C
// bytes zero-padded to row_bytes (a multiple of 4), packed as VNNI panels; cached likewise.
std::shared_ptr<const PackedQWeights> conv_weight_taps(const Tensor& w);

// Wrapping i32 add: the correction and the raw dot product may each leave the
// i32 range while their sum (the contract's exact accumulator) does not.
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// The per-column term the kernels add to their raw u8 x s8 dot products:
// corr[j] = bias[j] - a_zero * sum_k w[j][k] (wrapping; bias may be null) for
// j < w.panels * NR, zero past N. One pass per call, vectorisable.
void zero_point_corrections(const PackedQWeights& w, const int32_t* bias, int32_t a_zero, int32_t* corr);

// y(i, j) = output stage of  sum_k (a[i][k] - a_zero) * w[j][k] + bias[j],
// stored at y element i * y_row_stride + j * y_col_stride.
struct QGemmCall {
  const uint8_t* a = nullptr;
  int64_t lda = 0, m = 0;
  bool a_rows_padded = false;  // each row readable to a multiple of 4 bytes (im2col buffers)
  int32_t a_zero = 0;
  const PackedQWeights* w = nullptr;
  const int32_t* bias = nullptr;  // may be null
  const QuantOutputStage* out = nullptr;
  int64_t y_row_stride = 0, y_col_stride = 1;
};
// Threads over the tiles when `threaded` and the work is large enough.
void qgemm_blocked_compute(const QGemmCall& call, bool threaded);

}  // namespace tinyopt::cpu
