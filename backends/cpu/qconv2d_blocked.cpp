// cpu.blocked qconv2d: im2col in u8 + the int8 GEMM engine of qgemm_blocked.
//
// Per image, x is first transposed to channels-last (HWC), so that one tap
// (i, j) of a patch is C contiguous bytes; each patch row is then kh * kw
// short copies, A[p][(i * kw + j) * C + c], instead of C * kh * kw single-byte
// gathers with a bounds test each (4x faster on the CNN's 32-channel layer).
// The weights are packed once in the same (kh, kw, c) order. Rows are padded
// to a multiple of 4 bytes so the VNNI kernel reads whole K groups in place
// (the padded weights are zero). Taps outside the input hold x_zero, the code
// of real 0, so the GEMM's zero-point correction (which subtracts x_zero * the
// sum of all weights) is exact for them. The GEMM sees y as [P, O] and stores
// element (p, o) at o * P + p, i.e. straight into NCHW.
//
// With AVX-512 VNNI there is no im2col at all (qconv2d_vnni_direct): the
// image is transposed once to channels-last with its padding filled in, and
// then kernel row i of an output pixel's patch is kw * C contiguous bytes of
// that image, so the tile kernel (tile_vnni_conv) broadcasts its 4-byte
// groups straight from the image for 6 pixels of one output row against a
// 64-channel weight panel packed kernel row by kernel row. The tile comes out
// as [pixels][channels]; the fused epilogue requantizes 16 channels per
// vector into a channels-last staging buffer, which one SIMD byte transpose
// (transpose_bytes.h) turns into the NCHW output. Both transposes cost a few
// percent of the multiply; the im2col copy and the 64-pixel repack they
// replace cost more than the multiply on the CNN's layers.
//
// Threads: with at least one image per thread each thread takes whole images
// (own buffers, single-threaded GEMM), as conv2d_blocked does; batch-1
// inference threads the tiles of the one image instead.
// GCC 12's false "may be used uninitialized" on its own AVX-512 intrinsics (see qgemm_blocked.cpp).
#ifndef __clang__  // a GCC-only warning (clang does not know the flag)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"  // the same, for the shifts' undefined pass-through operand

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/qgemm_blocked.h"
#include "backends/cpu/parallel_for.h"
#include "backends/cpu/qgemm_blocked_microkernel.h"
#include "backends/cpu/scratch_buffer.h"
#include "backends/cpu/transpose_bytes.h"

namespace tinyopt::cpu {

namespace {

// rows[p * ld + (i * kw + j) * C + c] for one image (channels-last patches); columns past the patch are 0.
void im2col_rows_hwc(const uint8_t* hwc, const kernels::Conv2dDims& d, uint8_t x_zero, uint8_t* rows, int64_t ld) {
  const int64_t patch = d.patch();
  const size_t tap = static_cast<size_t>(d.c);
  for (int64_t oh = 0; oh < d.oh; ++oh)
    for (int64_t ow = 0; ow < d.ow; ++ow) {
      uint8_t* row = rows + (oh * d.ow + ow) * ld;
      const int64_t iw0 = ow * d.stride_w - d.pad_w;
      for (int64_t i = 0; i < d.kh; ++i) {
        const int64_t ih = oh * d.stride_h - d.pad_h + i;
        if (ih >= 0 && ih < d.h && iw0 >= 0 && iw0 + d.kw <= d.w) {
          // The row's kw taps are adjacent pixels: one copy of kw * C bytes.
          std::memcpy(row + i * d.kw * d.c, hwc + (ih * d.w + iw0) * d.c, tap * static_cast<size_t>(d.kw));
          continue;
        }
        for (int64_t j = 0; j < d.kw; ++j) {
          const int64_t iw = ow * d.stride_w - d.pad_w + j;
          uint8_t* dst = row + (i * d.kw + j) * d.c;
          if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w)
            std::memset(dst, x_zero, tap);
          else if (tap == 1)
            *dst = hwc[ih * d.w + iw];
          else
            std::memcpy(dst, hwc + (ih * d.w + iw) * d.c, tap);
        }
      }
      std::memset(row + patch, 0, static_cast<size_t>(ld - patch));
    }
}

// One image's padded channels-last copy: hwc[((h + pad_h) * wp + w + pad_w) * C + c]
// = x[c][h][w], x_zero (the code of real 0) in the padding.
void padded_channels_last(const uint8_t* x, const kernels::Conv2dDims& d, uint8_t x_zero, uint8_t* hwc,
                          uint8_t* unpadded) {
  const int64_t wp = d.w + 2 * d.pad_w, hp = d.h + 2 * d.pad_h;
  if (d.pad_h == 0 && d.pad_w == 0) {
    transpose_u8(x, d.c, d.h * d.w, d.h * d.w, hwc, d.c);
    return;
  }
  std::memset(hwc, x_zero, static_cast<size_t>(hp * wp * d.c));
  transpose_u8(x, d.c, d.h * d.w, d.h * d.w, unpadded, d.c);
  for (int64_t h = 0; h < d.h; ++h)
    std::memcpy(hwc + ((h + d.pad_h) * wp + d.pad_w) * d.c, unpadded + h * d.w * d.c, static_cast<size_t>(d.w * d.c));
}

// One image's state for the direct path.
struct DirectConv {
  const PackedQWeights* w;      // conv_weight_taps
  const int32_t* corr;          // [O]: bias - x_zero * weight sum
  const QuantOutputStage* out;  // writes into the channels-last staging buffer [pixels][O]
  bool vector_u8;               // u8 output and every shift in [0, 31]
  int64_t channels;             // O
};

// Four vectors of 16 u8 values held in i32 lanes (already in [0, 255]) -> one
// vector of their 64 bytes in order. The packs interleave per 128-bit lane, so
// dword 4l + k of the packed vector holds bytes 4l..4l+3 of input k; the
// permute puts them back. (One full-width masked store of the result is much
// cheaper than four vpmovdb stores to memory, which Zen 4 runs slowly.)
__attribute__((target("avx512f,avx512bw"))) inline __m512i pack_u8x64(const __m512i q[4]) {
  const __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(q[0], q[1]), _mm512_packus_epi32(q[2], q[3]));
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), bytes);
}

// The u8 rows of a tile whose channel run needs NV vectors (lanes <= 16 * NV):
// NV is a template parameter so that every array stays in registers.
template <int NV>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void store_u8_rows(const DirectConv& dc, const int32_t* tile,
                                                                        int rows, int64_t o0, int64_t p0,
                                                                        int64_t lanes) {
  using qblocked::kNrVnni;
  const QuantOutputStage& out = *dc.out;
  __m512i corr[NV];
  qblocked::Requant16 k[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int64_t left = std::clamp<int64_t>(lanes - 16 * v, 0, 16);
    const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1);
    corr[v] = _mm512_maskz_loadu_epi32(mask, dc.corr + o0 + 16 * v);
    k[v] = qblocked::requant16_constants(_mm512_maskz_loadu_epi32(mask, out.multiplier + o0 + 16 * v),
                                         _mm512_maskz_loadu_epi32(mask, out.shift + o0 + 16 * v), out.zero_point,
                                         out.lo);
  }
  // Stores no wider than the channels left: a masked store whose masked-off
  // part overlaps the next pixel's bytes costs several times a plain one.
  const __mmask64 store_mask = lanes == 64 ? ~__mmask64{0} : (__mmask64{1} << lanes) - 1;
  uint8_t* y = static_cast<uint8_t*>(out.y);
  for (int r = 0; r < rows; ++r) {
    __m512i q[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m512i acc = _mm512_add_epi32(_mm512_load_si512(tile + r * kNrVnni + v * 16), corr[v]);
      q[v] = qblocked::requantize16(acc, k[v]);
    }
    uint8_t* dst = y + (p0 + r) * dc.channels + o0;
    if constexpr (NV == 1) {
      _mm_mask_storeu_epi8(dst, static_cast<__mmask16>(store_mask), _mm512_cvtepi32_epi8(q[0]));
    } else {
      const __m512i bytes = pack_u8x64(q);
      if constexpr (NV == 2)
        _mm256_mask_storeu_epi8(dst, static_cast<__mmask32>(store_mask), _mm512_castsi512_si256(bytes));
      else
        _mm512_mask_storeu_epi8(dst, store_mask, bytes);
    }
  }
}

// Stores a tile (pixel p0 + r, channel o0 + j) through the output stage into
// the staging buffer; u8 with every shift in [0, 31] goes 16 channels per
// vector with per-channel constants, up to 64 channels per store.
void store_tile_channels_last(const DirectConv& dc, const int32_t* tile, int rows, int64_t o0, int64_t p0) {
  using qblocked::kNrVnni;
  const int64_t lanes = std::min<int64_t>(kNrVnni, dc.channels - o0);
  if (!dc.vector_u8) {
    const QuantOutputStage& out = *dc.out;
    for (int r = 0; r < rows; ++r)
      for (int64_t j = 0; j < lanes; ++j)
        out.store(wrap_add(tile[r * kNrVnni + j], dc.corr[o0 + j]), o0 + j, (p0 + r) * dc.channels + o0 + j);
    return;
  }
  switch ((lanes + 15) / 16) {
    case 1: store_u8_rows<1>(dc, tile, rows, o0, p0, lanes); break;
    case 2: store_u8_rows<2>(dc, tile, rows, o0, p0, lanes); break;
    case 3: store_u8_rows<3>(dc, tile, rows, o0, p0, lanes); break;
    default: store_u8_rows<4>(dc, tile, rows, o0, p0, lanes); break;
  }
}

// Fused max-pool, first half: a tile's accumulators plus their correction
// (bias, zero point) into the image's i32 staging [pixels][ld] (ld = O rounded
// up to 16), as whole vectors (the lanes past O hold corrections of zero).
__attribute__((target("avx512f"))) void stage_tile_acc(const int32_t* tile, int rows, int vectors,
                                                       const int32_t* corr, int32_t* acc, int64_t ld) {
  for (int r = 0; r < rows; ++r)
    for (int v = 0; v < vectors; ++v)
      _mm512_storeu_si512(acc + r * ld + 16 * v,
                          _mm512_add_epi32(_mm512_load_si512(tile + r * qblocked::kNrVnni + 16 * v),
                                           _mm512_loadu_si512(corr + 16 * v)));
}

// Second half: the maxima of `rows` pooled pixels' pool x pool windows
// (pooled pixel r's window starts at acc + r * pool * ld, input rows `row_step`
// apart) into a tile, `vectors` vectors of 16 channels each.
__attribute__((target("avx512f"))) void pool_tile_acc(const int32_t* acc, int64_t ld, int64_t row_step, int64_t pool,
                                                      int rows, int vectors, int32_t* tile) {
  for (int r = 0; r < rows; ++r)
    for (int v = 0; v < vectors; ++v) {
      const int32_t* window = acc + r * pool * ld + 16 * v;
      __m512i m = _mm512_loadu_si512(window);
      for (int64_t i = 0; i < pool; ++i)
        for (int64_t j = 0; j < pool; ++j)
          m = _mm512_max_epi32(m, _mm512_loadu_si512(window + i * row_step + j * ld));
      _mm512_store_si512(tile + r * qblocked::kNrVnni + 16 * v, m);
    }
}

// The VNNI path: per image, padded channels-last copy -> 6-pixel x 64-channel
// tiles -> channels-last staging -> NCHW.
void qconv2d_vnni_direct(const QConv2dArgs& args, const kernels::Conv2dDims& d) {
  using namespace qblocked;
  const auto w = conv_weight_taps(args.w);
  const int64_t groups_per_row = w->groups / d.kh;
  const int64_t hp = d.h + 2 * d.pad_h, wp = d.w + 2 * d.pad_w, pixels = d.out_pixels();
  // A tile may read up to 3 bytes past its last pixel's kernel row (zero weights): slack.
  const size_t image_bytes = static_cast<size_t>(hp * wp * d.c) + 64;
  // Vectors of channels per panel (the last may be partial; 3 run as 4) and
  // pixels per tile: up to 12 when every panel has at most 2 vectors, else 6,
  // split evenly over each output row.
  const auto panel_vectors = [&](int64_t panel) {
    const int64_t nv = (std::min<int64_t>(kNrVnni, d.o - panel * kNrVnni) + 15) / 16;
    return nv == 3 ? 4 : static_cast<int>(nv);
  };
  // A fused max-pool (u8 outputs only; qconv2d_blocked_run sends others by
  // parts): the corrected accumulators go to an i32 staging buffer, and only
  // each window's maximum goes through the output stage. Only the outputs some
  // window covers are computed (the CNN's second conv: 10 x 10 of its 11 x 11).
  const int64_t pool = args.pool;
  const int64_t pooled_h = pool > 0 ? d.oh / pool : d.oh, pooled_w = pool > 0 ? d.ow / pool : d.ow;
  const int64_t used_h = pool > 0 ? pooled_h * pool : d.oh, used_w = pool > 0 ? pooled_w * pool : d.ow;
  const int max_rows = conv_tile_rows(panel_vectors(0));
  const int64_t row_tiles = (used_w + max_rows - 1) / max_rows, tile_width = (used_w + row_tiles - 1) / row_tiles;
  const int64_t items = used_h * row_tiles * w->panels;
  // Per channel: bias - x_zero * weight sum, zero past O (whole vectors may
  // read it); then as many zeros: the corrections of the pooled pass, whose
  // staged accumulators hold them already. Per-thread scratch, no allocation.
  const int64_t padded_o = w->panels * kNrVnni;
  static thread_local ScratchBuffer<int32_t> corr_scratch;
  int32_t* corr = corr_scratch.get(static_cast<size_t>(2 * padded_o));
  zero_point_corrections(*w, args.bias.defined() ? args.bias.data<int32_t>() : nullptr, args.x_zero, corr);
  int32_t* zeros = corr + padded_o;
  std::fill_n(zeros, padded_o, 0);
  const QuantOutputStage out(args.out, args.y);
  bool vector_u8 = out.dtype == DType::u8;
  for (int64_t o = 0; vector_u8 && o < d.o; ++o) vector_u8 = out.shift[o] >= 0 && out.shift[o] <= 31;
  const size_t y_esize = dtype_size(args.y.dtype());
  const uint8_t* x = args.x.data<uint8_t>();

  TINYOPT_CHECK(pool == 0 || out.dtype == DType::u8, "qconv2d cpu.blocked: fused max-pool on a {} output",
                dtype_name(out.dtype));
  const int64_t out_pixels = pooled_h * pooled_w;
  const int64_t acc_ld = (d.o + 15) / 16 * 16;
  const auto staged_vectors = [&](int64_t panel) {
    return static_cast<int>((std::min<int64_t>(kNrVnni, acc_ld - panel * kNrVnni)) / 16);
  };
  const int64_t pool_row_tiles = (pooled_w + kConvRowsMax - 1) / kConvRowsMax;
  const int64_t pool_items = pooled_h * pool_row_tiles * w->panels;

  const int threads = omp_get_max_threads();
  const double macs = double(d.n) * double(d.o) * double(pixels) * double(d.patch());
  // Work in multiply-add units: an output's requantization and transposes
  // cost about as much as 64 VNNI multiply-adds (the CNN's first layer, with
  // 9 multiply-adds per output, spends most of its time there).
  const double work = macs + 64.0 * double(d.n) * double(d.o) * double(pixels);
  const bool by_image = threads > 1 && d.n >= threads && work >= 1e6;
  const bool by_tile = !by_image && threads > 1 && items > 1 && work >= 1e6;
  parallel_for_if(by_image, d.n, [&](int64_t n) {
    static thread_local ScratchBuffer<uint8_t> hwc_scratch, unpadded_scratch, stage_scratch;
    static thread_local ScratchBuffer<int32_t> acc_scratch;
    uint8_t* hwc = hwc_scratch.get(image_bytes);
    std::memset(hwc + image_bytes - 64, 0, 64);
    uint8_t* unpadded = d.pad_h || d.pad_w ? unpadded_scratch.get(static_cast<size_t>(d.c * d.h * d.w)) : nullptr;
    padded_channels_last(x + n * d.c * d.h * d.w, d, static_cast<uint8_t>(args.x_zero), hwc, unpadded);
    uint8_t* stage = stage_scratch.get(static_cast<size_t>(out_pixels * d.o) * y_esize);
    QuantOutputStage stage_out = out;
    stage_out.y = stage;
    const DirectConv dc{w.get(), pool > 0 ? zeros : corr, &stage_out, vector_u8, d.o};
    int32_t* acc = pool > 0 ? acc_scratch.get(static_cast<size_t>(pixels * acc_ld)) : nullptr;
    parallel_for_if(by_tile, items, [&](int64_t item) {
      const int64_t panel = item % w->panels, tile_in_row = item / w->panels;
      const int64_t oh = tile_in_row / row_tiles, ow0 = (tile_in_row % row_tiles) * tile_width;
      const int rows = static_cast<int>(std::min<int64_t>(tile_width, used_w - ow0));
      alignas(64) int32_t tile[kConvRowsMax * kNrVnni];
      const uint8_t* a = hwc + (oh * d.stride_h * wp + ow0 * d.stride_w) * d.c;
      kTileConv[panel_vectors(panel)][rows](d.kh, groups_per_row, a, d.stride_w * d.c, wp * d.c,
                                            static_cast<const int8_t*>(w->panel(panel)), tile);
      if (pool > 0)
        stage_tile_acc(tile, rows, staged_vectors(panel), corr + panel * kNrVnni,
                       acc + (oh * d.ow + ow0) * acc_ld + panel * kNrVnni, acc_ld);
      else
        store_tile_channels_last(dc, tile, rows, panel * kNrVnni, oh * d.ow + ow0);
    });
    if (pool > 0)  // the window maxima, through the output stage, pooled row by pooled row
      parallel_for_if(by_tile, pool_items, [&](int64_t item) {
        const int64_t panel = item % w->panels, tile_in_row = item / w->panels;
        const int64_t ph = tile_in_row / pool_row_tiles, pw0 = (tile_in_row % pool_row_tiles) * kConvRowsMax;
        const int rows = static_cast<int>(std::min<int64_t>(kConvRowsMax, pooled_w - pw0));
        alignas(64) int32_t tile[kConvRowsMax * kNrVnni];
        pool_tile_acc(acc + (ph * pool * d.ow + pw0 * pool) * acc_ld + panel * kNrVnni, acc_ld, d.ow * acc_ld, pool,
                      rows, staged_vectors(panel), tile);
        store_tile_channels_last(dc, tile, rows, panel * kNrVnni, ph * pooled_w + pw0);
      });
    char* y_image = static_cast<char*>(out.y) + static_cast<size_t>(n * d.o * out_pixels) * y_esize;
    if (y_esize == 1)
      transpose_u8(stage, out_pixels, d.o, d.o, reinterpret_cast<uint8_t*>(y_image), out_pixels);
    else
      transpose_u32(reinterpret_cast<const uint32_t*>(stage), out_pixels, d.o, d.o,
                    reinterpret_cast<uint32_t*>(y_image), out_pixels);
  });
}

}  // namespace

bool qconv2d_blocked_supports(const QConv2dArgs& args) {
  return qconv2d_cpu_supports(args) && qgemm_blocked_isa() != QGemmIsa::automatic;
}

void qconv2d_blocked_run(const QConv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const int64_t pixels = d.out_pixels(), patch = d.patch();
  if (d.n == 0 || d.o == 0 || pixels == 0) return;
  const bool vnni = qgemm_blocked_isa() == QGemmIsa::avx512_vnni;
  if (args.pool > 0 && !(vnni && args.y.dtype() == DType::u8)) {
    qconv2d_then_pool(args, qconv2d_blocked_run);  // only the VNNI path fuses u8 pooling: convolve, then pool
    return;
  }
  if (vnni) {
    qconv2d_vnni_direct(args, d);
    return;
  }
  const auto w = packed_qweights_hwc(args.w, qgemm_blocked_isa());
  const int64_t ld = (patch + 3) / 4 * 4;
  const QuantOutputStage out(args.out, args.y);
  const size_t y_esize = dtype_size(args.y.dtype());
  const uint8_t* x = args.x.data<uint8_t>();
  const int32_t* bias = args.bias.defined() ? args.bias.data<int32_t>() : nullptr;

  const int threads = omp_get_max_threads();
  const double macs = double(d.n) * double(d.o) * double(pixels) * double(patch);
  const bool by_image = threads > 1 && d.n >= threads && macs >= 1e6;
  parallel_for_if(by_image, d.n, [&](int64_t n) {
    static thread_local ScratchBuffer<uint8_t> rows_scratch, hwc_scratch;
    uint8_t* rows = rows_scratch.get(static_cast<size_t>(pixels * ld));
    const uint8_t* image = x + n * d.c * d.h * d.w;
    const uint8_t* hwc = image;  // one channel: CHW is already HWC
    if (d.c > 1) {
      uint8_t* buffer = hwc_scratch.get(static_cast<size_t>(d.c * d.h * d.w));
      transpose_u8(image, d.c, d.h * d.w, d.h * d.w, buffer, d.c);  // to channels-last
      hwc = buffer;
    }
    im2col_rows_hwc(hwc, d, static_cast<uint8_t>(args.x_zero), rows, ld);
    QuantOutputStage image_out = out;
    image_out.y = static_cast<char*>(out.y) + static_cast<size_t>(n * d.o * pixels) * y_esize;
    QGemmCall call;
    call.a = rows;
    call.lda = ld;
    call.m = pixels;
    call.a_rows_padded = true;
    call.a_zero = args.x_zero;
    call.w = w.get();
    call.bias = bias;
    call.out = &image_out;
    call.y_row_stride = 1;
    call.y_col_stride = pixels;
    qgemm_blocked_compute(call, !by_image);
  });
}

}  // namespace tinyopt::cpu
