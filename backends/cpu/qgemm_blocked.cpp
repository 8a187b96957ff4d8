// cpu.blocked qgemm: our own int8 GEMM, y = a (u8) x w^T (s8) with i32
// accumulation and the output stage fused into the micro-kernel's epilogue.
//
// Structure (as matmul_blocked.cpp, with int8 twists):
//   - Weights are packed once per weight tensor (WeightCache): NR-column
//     panels, K in 4-byte groups for VNNI (2 s16 for AVX2), zero-padded, plus
//     each column's sum over K. Quantized weights never change, so packing
//     leaves the per-call path entirely.
//   - The zero point is never subtracted in the inner loop: u8 x s8 products
//     feed the hardware dot product directly and the correction
//     -a_zero * colsum[j] + bias[j] is added once per output in the epilogue.
//   - A rows are read in place (broadcast 4 bytes per row and K group); only a
//     K that is not a multiple of 4 (or the AVX2 path, which widens to s16)
//     copies them into a padded buffer first.
//   - Each R x NR tile accumulates over the whole K in registers (K <= 65536 is
//     validated, so i32 is exact), then the epilogue requantizes 16 lanes at a
//     time (AVX-512; bit-exact with kernels::requantize) and stores u8 / f32 / i32.
//   - Work items are (M block of 240 rows, column panel, 6-row tile), in that
//     order, split over OpenMP threads in contiguous ranges: consecutive items
//     share a weight panel (64 KiB at K = 1024, L2-resident) and a thread's
//     A block (240 x K bytes) stays in its L2 while the panels stream past.
#include "backends/cpu/qgemm_blocked.h"

// GCC 12 reports its own AVX-512 intrinsics (which start from a deliberately
// undefined register, `__Y = __Y`) as "may be used uninitialized" once they
// are inlined into a target("avx512f") function; a known false positive.
#ifndef __clang__  // a GCC-only warning (clang does not know the flag)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "core/cpu_info.h"
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/parallel_for.h"
#include "backends/cpu/qgemm_blocked_microkernel.h"
#include "backends/cpu/scratch_buffer.h"
#include "backends/cpu/weight_cache.h"

namespace tinyopt::cpu {

namespace {

using namespace qblocked;

std::atomic<int> g_forced_isa{static_cast<int>(QGemmIsa::automatic)};

bool has_vnni() { return simd_isa() == SimdIsa::avx512 && cpu_info().avx512_vnni; }
bool has_avx2() { return simd_isa() != SimdIsa::base; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

constexpr int64_t kMc = 240;  // rows per M block (40 tiles of 6)

std::shared_ptr<void> zeroed_aligned(size_t bytes) {
  const size_t size = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void* p = std::aligned_alloc(64, size);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, size);
  return {p, std::free};
}

std::shared_ptr<const PackedQWeights> pack(const int8_t* w, int64_t n, int64_t k, QGemmIsa isa) {
  auto p = std::make_shared<PackedQWeights>();
  const bool vnni = isa == QGemmIsa::avx512_vnni;
  const int64_t nr = vnni ? kNrVnni : kNrAvx2, group = vnni ? kGroupVnni : kGroupAvx2;
  p->isa = isa;
  p->n = n;
  p->k = k;
  p->groups = ceil_div(k, group);
  p->panels = ceil_div(n, nr);
  p->panel_bytes = p->groups * nr * group * (vnni ? 1 : 2);
  p->data = zeroed_aligned(static_cast<size_t>(p->panels * p->panel_bytes));
  p->col_sums = std::make_unique<int32_t[]>(static_cast<size_t>(p->panels * nr));
  for (int64_t col = 0; col < n; ++col) {
    char* panel = static_cast<char*>(p->data.get()) + (col / nr) * p->panel_bytes;
    const int64_t c = col % nr;
    int32_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int8_t v = w[col * k + kk];
      sum += v;
      const int64_t slot = (kk / group) * nr * group + c * group + kk % group;
      if (vnni)
        reinterpret_cast<int8_t*>(panel)[slot] = v;
      else
        reinterpret_cast<int16_t*>(panel)[slot] = v;
    }
    p->col_sums[col] = sum;
  }
  return p;
}

WeightCache<PackedQWeights>& packed_cache() {
  static WeightCache<PackedQWeights> cache;
  return cache;
}

// Per-call state shared by the threads.
struct Plan {
  const QGemmCall* call;
  const PackedQWeights* w;
  int nr;
  const uint8_t* a_u8;    // VNNI path: rows readable for groups * 4 bytes
  const int16_t* a_s16;   // AVX2 path: widened rows, groups * 2 values
  int64_t lda;
  const int32_t* corr;    // [panels * nr]: bias - a_zero * colsum
  bool simd_epilogue;     // AVX-512 output stage usable for this call
};

void epilogue_scalar(const Plan& p, const int32_t* tile, int rows, int cols, int64_t i0, int64_t j0) {
  const QGemmCall& c = *p.call;
  for (int r = 0; r < rows; ++r)
    for (int jj = 0; jj < cols; ++jj) {
      const int64_t j = j0 + jj;
      c.out->store(wrap_add(tile[r * p.nr + jj], p.corr[j]), j, (i0 + r) * c.y_row_stride + j * c.y_col_stride);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) void epilogue_avx512(const Plan& p, const int32_t* tile,
                                                                          int rows, int cols, int64_t i0,
                                                                          int64_t j0) {
  const QGemmCall& c = *p.call;
  const QuantOutputStage& out = *c.out;
  for (int r = 0; r < rows; ++r) {
    const int64_t row = (i0 + r) * c.y_row_stride;
    for (int v = 0; v * 16 < cols; ++v) {
      const int lanes = std::min(16, cols - v * 16);
      const __mmask16 mask = static_cast<__mmask16>((1u << lanes) - 1);
      const int64_t j = j0 + v * 16;
      const __m512i acc = _mm512_add_epi32(_mm512_load_si512(tile + r * p.nr + v * 16), _mm512_loadu_si512(p.corr + j));
      alignas(64) int32_t lane_i32[16];
      alignas(64) float lane_f32[16];
      alignas(16) uint8_t lane_u8[16];
      const bool contiguous = c.y_col_stride == 1;
      if (out.dtype == DType::u8) {
        const __m512i q = requantize16(
            acc, requant16_constants(_mm512_maskz_loadu_epi32(mask, out.multiplier + j),
                                     _mm512_maskz_loadu_epi32(mask, out.shift + j), out.zero_point, out.lo));
        const __m128i bytes = _mm512_cvtepi32_epi8(q);
        uint8_t* y = static_cast<uint8_t*>(out.y);
        if (contiguous) {
          _mm_mask_storeu_epi8(y + row + j, mask, bytes);
        } else {
          _mm_store_si128(reinterpret_cast<__m128i*>(lane_u8), bytes);
          for (int l = 0; l < lanes; ++l) y[row + (j + l) * c.y_col_stride] = lane_u8[l];
        }
      } else if (out.dtype == DType::f32) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_maskz_loadu_ps(mask, out.scale + j));
        if (out.relu) f = _mm512_max_ps(f, _mm512_setzero_ps());
        float* y = static_cast<float*>(out.y);
        if (contiguous) {
          _mm512_mask_storeu_ps(y + row + j, mask, f);
        } else {
          _mm512_store_ps(lane_f32, f);
          for (int l = 0; l < lanes; ++l) y[row + (j + l) * c.y_col_stride] = lane_f32[l];
        }
      } else {
        int32_t* y = static_cast<int32_t*>(out.y);
        if (contiguous) {
          _mm512_mask_storeu_epi32(y + row + j, mask, acc);
        } else {
          _mm512_store_si512(lane_i32, acc);
          for (int l = 0; l < lanes; ++l) y[row + (j + l) * c.y_col_stride] = lane_i32[l];
        }
      }
    }
  }
}

void run_item(const Plan& p, int64_t block, int64_t panel, int64_t tile_index) {
  const QGemmCall& c = *p.call;
  const int64_t i0 = block * kMc + tile_index * kMr;
  const int rows = static_cast<int>(std::min<int64_t>(kMr, c.m - i0));
  const int64_t j0 = panel * p.nr;
  const int cols = static_cast<int>(std::min<int64_t>(p.nr, p.w->n - j0));
  alignas(64) int32_t tile[kMr * kNrVnni];
  if (p.w->isa == QGemmIsa::avx512_vnni)
    kTileVnni[rows](p.w->groups, p.a_u8 + i0 * p.lda, p.lda, static_cast<const int8_t*>(p.w->panel(panel)), tile);
  else
    kTileAvx2[rows](p.w->groups, p.a_s16 + i0 * p.lda, p.lda, static_cast<const int16_t*>(p.w->panel(panel)), tile);
  if (p.simd_epilogue)
    epilogue_avx512(p, tile, rows, cols, i0, j0);
  else
    epilogue_scalar(p, tile, rows, cols, i0, j0);
}

}  // namespace

void qgemm_blocked_force_isa(QGemmIsa isa) { g_forced_isa.store(static_cast<int>(isa)); }

QGemmIsa qgemm_blocked_isa() {
  const auto forced = static_cast<QGemmIsa>(g_forced_isa.load());
  if (forced == QGemmIsa::avx512_vnni) return has_vnni() ? forced : QGemmIsa::automatic;
  if (forced == QGemmIsa::avx2) return has_avx2() ? forced : QGemmIsa::automatic;
  if (has_vnni()) return QGemmIsa::avx512_vnni;
  if (has_avx2()) return QGemmIsa::avx2;
  return QGemmIsa::automatic;
}

std::shared_ptr<const PackedQWeights> packed_qweights(const Tensor& w, int64_t n, int64_t k, QGemmIsa isa) {
  const std::string tag = isa == QGemmIsa::avx512_vnni ? "qgemm.vnni" : "qgemm.avx2";
  const int8_t* data = w.data<int8_t>();
  return packed_cache().get(w, tag, [&] { return pack(data, n, k, isa); });
}

std::shared_ptr<const PackedQWeights> packed_qweights_hwc(const Tensor& w, QGemmIsa isa) {
  const std::string tag = isa == QGemmIsa::avx512_vnni ? "qconv.hwc.vnni" : "qconv.hwc.avx2";
  const int64_t o = w.size(0), c = w.size(1), kh = w.size(2), kw = w.size(3), k = c * kh * kw;
  const int8_t* data = w.data<int8_t>();
  return packed_cache().get(w, tag, [&] {
    std::vector<int8_t> hwc(static_cast<size_t>(o * k));  // w[o][(i * kw + j) * c + ch] = w[o][ch][i][j]
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j)
            hwc[oc * k + (i * kw + j) * c + ch] = data[((oc * c + ch) * kh + i) * kw + j];
    return pack(hwc.data(), o, k, isa);
  });
}

std::shared_ptr<const PackedQWeights> conv_weight_taps(const Tensor& w) {
  const int64_t o = w.size(0), c = w.size(1), kh = w.size(2), kw = w.size(3);
  const int64_t row_bytes = ceil_div(kw * c, kGroupVnni) * kGroupVnni, k = kh * row_bytes;
  const int8_t* data = w.data<int8_t>();
  return packed_cache().get(w, "qconv.taps.vnni", [&] {
    std::vector<int8_t> rows(static_cast<size_t>(o * k), 0);
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j)
            rows[oc * k + i * row_bytes + j * c + ch] = data[((oc * c + ch) * kh + i) * kw + j];
    return pack(rows.data(), o, k, QGemmIsa::avx512_vnni);
  });
}

void zero_point_corrections(const PackedQWeights& w, const int32_t* bias, int32_t a_zero, int32_t* corr) {
  // (Locals and separate loops so that both vectorise.)
  const int64_t columns = w.panels * (w.isa == QGemmIsa::avx512_vnni ? kNrVnni : kNrAvx2);
  const uint32_t minus_a_zero = -static_cast<uint32_t>(a_zero);
  const int32_t* col_sums = w.col_sums.get();
  for (int64_t j = 0; j < columns; ++j)
    corr[j] = static_cast<int32_t>(minus_a_zero * static_cast<uint32_t>(col_sums[j]));
  if (bias != nullptr)
    for (int64_t j = 0; j < w.n; ++j) corr[j] = wrap_add(corr[j], bias[j]);
}

void qgemm_blocked_compute(const QGemmCall& c, bool threaded) {
  const PackedQWeights& w = *c.w;
  if (c.m == 0 || w.n == 0) return;
  const bool vnni = w.isa == QGemmIsa::avx512_vnni;
  Plan p{&c, &w, vnni ? kNrVnni : kNrAvx2, nullptr, nullptr, 0, nullptr, false};

  // The zero-point and bias correction of every column, once per call.
  static thread_local ScratchBuffer<int32_t> corr_scratch;
  int32_t* corr = corr_scratch.get(static_cast<size_t>(w.panels * p.nr));
  zero_point_corrections(w, c.bias, c.a_zero, corr);
  p.corr = corr;

  // The A operand in the form the path reads.
  static thread_local ScratchBuffer<uint8_t> a_u8_scratch;
  static thread_local ScratchBuffer<int16_t> a_s16_scratch;
  if (vnni) {
    const int64_t kp = w.groups * kGroupVnni;
    if (c.a_rows_padded || w.k == kp) {
      p.a_u8 = c.a;
      p.lda = c.lda;
    } else {
      uint8_t* a = a_u8_scratch.get(static_cast<size_t>(c.m * kp));
      for (int64_t i = 0; i < c.m; ++i) {
        std::memcpy(a + i * kp, c.a + i * c.lda, static_cast<size_t>(w.k));
        std::memset(a + i * kp + w.k, 0, static_cast<size_t>(kp - w.k));
      }
      p.a_u8 = a;
      p.lda = kp;
    }
  } else {
    const int64_t kp = w.groups * kGroupAvx2;
    int16_t* a = a_s16_scratch.get(static_cast<size_t>(c.m * kp));
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t kk = 0; kk < w.k; ++kk) a[i * kp + kk] = c.a[i * c.lda + kk];
      for (int64_t kk = w.k; kk < kp; ++kk) a[i * kp + kk] = 0;
    }
    p.a_s16 = a;
    p.lda = kp;
  }

  // The AVX-512 output stage handles right shifts only (what every real layer
  // has: real multipliers below 1); a left shift takes the scalar stage.
  p.simd_epilogue = vnni;
  if (p.simd_epilogue && c.out->dtype == DType::u8) {
    int32_t min_shift = 0;
    const int32_t* shift = c.out->shift;
    for (int64_t j = 0; j < w.n; ++j) min_shift = std::min(min_shift, shift[j]);
    p.simd_epilogue = min_shift >= 0;
  }

  // Items are (block, panel, tile) triples of real tiles only: a short last
  // block has fewer tiles, and counting its empty slots as items made a static
  // split hand one thread almost nothing (m = 256: 240 + 16 rows, one thread
  // got ~93% of the work).
  const int64_t full_blocks = c.m / kMc, tiles_full = kMc / kMr;
  const int64_t tiles_last = ceil_div(c.m - full_blocks * kMc, kMr);  // 0 when m is a multiple of kMc
  const int64_t full_items = full_blocks * w.panels * tiles_full;
  const int64_t items = full_items + w.panels * tiles_last;
  const double macs = double(c.m) * double(w.n) * double(w.k);
  const bool parallel = threaded && omp_get_max_threads() > 1 && macs >= 1 << 20 && items > 1;
  parallel_for_if(parallel, items, [&](int64_t item) {
    const bool in_full = item < full_items;
    const int64_t tiles = in_full ? tiles_full : tiles_last;
    const int64_t local = in_full ? item % (w.panels * tiles_full) : item - full_items;
    const int64_t block = in_full ? item / (w.panels * tiles_full) : full_blocks;
    run_item(p, block, local / tiles, local % tiles);
  });
}

bool qgemm_blocked_supports(const QGemmArgs& args) {
  return qgemm_cpu_supports(args) && qgemm_blocked_isa() != QGemmIsa::automatic;
}

void qgemm_blocked_run(const QGemmArgs& args) {
  const int64_t m = args.m(), n = args.n(), k = args.k();
  if (m == 0 || n == 0) return;
  const auto w = packed_qweights(args.w, n, k, qgemm_blocked_isa());
  const QuantOutputStage out(args.out, args.y);
  QGemmCall call;
  call.a = args.a.data<uint8_t>();
  call.lda = k;
  call.m = m;
  call.a_zero = args.a_zero;
  call.w = w.get();
  call.bias = args.bias.defined() ? args.bias.data<int32_t>() : nullptr;
  call.out = &out;
  call.y_row_stride = n;
  call.y_col_stride = 1;
  qgemm_blocked_compute(call, true);
}

}  // namespace tinyopt::cpu
