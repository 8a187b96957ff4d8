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
// With AVX-512 VNNI the GEMM runs the other way round (tile_vnni_pixels): the
// patch rows are repacked into 64-pixel panels (4-byte K groups, the u8
// operand) and 6 output channels' weight rows are broadcast (the s8 operand),
// so each tile is 6 channels x 64 pixels, i.e. six contiguous runs of the
// NCHW output that the fused epilogue stores with vector stores and
// per-channel constants. (The [P, O] GEMM form would store every output
// byte separately, O * P scattered stores per image, which cost more than
// the multiply on the CNN's layers.) The AVX2 path keeps the [P, O] GEMM.
//
// Threads: with at least one image per thread each thread takes whole images
// (own buffers, single-threaded GEMM), as conv2d_blocked does; batch-1
// inference threads the tiles of the one image instead.
// GCC 12's false "may be used uninitialized" on its own AVX-512 intrinsics (see qgemm_blocked.cpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/qgemm_blocked.h"
#include "backends/cpu/qgemm_blocked_microkernel.h"
#include "backends/cpu/scratch_buffer.h"

namespace tinyopt::cpu {

namespace {

// hwc[(h * W + w) * C + c] = x[c][h][w] for one image.
void to_channels_last(const uint8_t* x, const kernels::Conv2dDims& d, uint8_t* hwc) {
  for (int64_t c = 0; c < d.c; ++c)
    for (int64_t p = 0; p < d.h * d.w; ++p) hwc[p * d.c + c] = x[c * d.h * d.w + p];
}

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

// Repacks one image's patch rows [P][ld] into 64-pixel panels: panel t, K group g,
// pixel j holds rows[(64 t + j) * ld + 4 g .. + 3]; pixels past P are zero.
void rows_to_pixel_panels(const uint8_t* rows, int64_t pixels, int64_t ld, int64_t groups, uint8_t* panels) {
  using namespace qblocked;
  const int64_t panel_bytes = groups * kNrVnni * kGroupVnni;
  for (int64_t t = 0; t * kNrVnni < pixels; ++t) {
    uint8_t* panel = panels + t * panel_bytes;
    for (int64_t j = 0; j < kNrVnni; ++j) {
      const int64_t p = t * kNrVnni + j;
      for (int64_t g = 0; g < groups; ++g) {
        uint8_t* dst = panel + g * kNrVnni * kGroupVnni + j * kGroupVnni;
        if (p < pixels)
          std::memcpy(dst, rows + p * ld + g * kGroupVnni, kGroupVnni);
        else
          std::memset(dst, 0, kGroupVnni);
      }
    }
  }
}

inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// One image's state for the pixel-tile path.
struct PixelConv {
  const PackedQWeights* w;   // weight rows (conv_weight_rows)
  const int32_t* corr;       // [O]: bias - x_zero * row sum
  const QuantOutputStage* out;  // y at this image
  const uint8_t* panels;     // this image's pixel panels
  int64_t pixels;
};

// Stores a rows x cols tile (channel o0 + r, pixel p0 + j) through the output
// stage, 16 pixels at a time; a channel with a left shift takes the scalar stage.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void store_pixel_tile(const PixelConv& pc, const int32_t* tile,
                                                                           int rows, int cols, int64_t o0,
                                                                           int64_t p0) {
  const QuantOutputStage& out = *pc.out;
  const __m512i zp = _mm512_set1_epi32(out.zero_point), lo = _mm512_set1_epi32(out.lo);
  for (int r = 0; r < rows; ++r) {
    const int64_t o = o0 + r, base = o * pc.pixels + p0;
    const int32_t* acc_row = tile + r * qblocked::kNrVnni;
    if (out.dtype == DType::u8 && out.shift[o] < 0) {
      for (int j = 0; j < cols; ++j) out.store(wrap_add(acc_row[j], pc.corr[o]), o, base + j);
      continue;
    }
    const __m512i corr = _mm512_set1_epi32(pc.corr[o]);
    for (int v = 0; v * 16 < cols; ++v) {
      const int lanes = std::min(16, cols - v * 16);
      const __mmask16 mask = static_cast<__mmask16>((1u << lanes) - 1);
      const __m512i acc = _mm512_add_epi32(_mm512_load_si512(acc_row + v * 16), corr);
      const int64_t at = base + v * 16;
      if (out.dtype == DType::u8) {
        const __m512i q = qblocked::requantize16(acc, _mm512_set1_epi32(out.multiplier[o]),
                                                 _mm512_set1_epi32(out.shift[o]), zp, lo);
        _mm_mask_storeu_epi8(static_cast<uint8_t*>(out.y) + at, mask, _mm512_cvtepi32_epi8(q));
      } else if (out.dtype == DType::f32) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(out.scale[o]));
        if (out.relu) f = _mm512_max_ps(f, _mm512_setzero_ps());
        _mm512_mask_storeu_ps(static_cast<float*>(out.y) + at, mask, f);
      } else {
        _mm512_mask_storeu_epi32(static_cast<int32_t*>(out.y) + at, mask, acc);
      }
    }
  }
}

void pixel_tile(const PixelConv& pc, int64_t channel_tile, int64_t panel) {
  using namespace qblocked;
  const int64_t o0 = channel_tile * kMr, p0 = panel * kNrVnni;
  const int rows = static_cast<int>(std::min<int64_t>(kMr, pc.w->n - o0));
  const int cols = static_cast<int>(std::min<int64_t>(kNrVnni, pc.pixels - p0));
  alignas(64) int32_t tile[kMr * kNrVnni];
  kTilePixels[rows](pc.w->groups, pc.panels + panel * pc.w->groups * kNrVnni * kGroupVnni,
                    static_cast<const int8_t*>(pc.w->panel(o0)), pc.w->panel_bytes, tile);
  store_pixel_tile(pc, tile, rows, cols, o0, p0);
}

// The VNNI path: per image, channels-last patch rows -> pixel panels -> 6 x 64 tiles.
void qconv2d_vnni_pixels(const QConv2dArgs& args, const kernels::Conv2dDims& d) {
  using namespace qblocked;
  const auto w = conv_weight_rows(args.w);
  const int64_t pixels = d.out_pixels(), ld = w->panel_bytes, groups = w->groups;
  const int64_t panel_count = (pixels + kNrVnni - 1) / kNrVnni, channel_tiles = (d.o + kMr - 1) / kMr;
  std::vector<int32_t> corr(static_cast<size_t>(d.o));
  const int32_t* bias = args.bias.defined() ? args.bias.data<int32_t>() : nullptr;
  for (int64_t o = 0; o < d.o; ++o)
    corr[o] = wrap_add(bias ? bias[o] : 0,
                       static_cast<int32_t>(-static_cast<uint32_t>(args.x_zero) * static_cast<uint32_t>(w->col_sums[o])));
  const QuantOutputStage out(args.out, args.y);
  const size_t y_esize = dtype_size(args.y.dtype());
  const uint8_t* x = args.x.data<uint8_t>();

  const int threads = omp_get_max_threads();
  const double macs = double(d.n) * double(d.o) * double(pixels) * double(d.patch());
  const bool by_image = threads > 1 && d.n >= threads && macs >= 1e6;
  const int64_t items = channel_tiles * panel_count;
  const bool by_tile = !by_image && threads > 1 && items > 1 && macs >= double(1 << 20);
#pragma omp parallel for schedule(static) if (by_image)
  for (int64_t n = 0; n < d.n; ++n) {
    static thread_local ScratchBuffer<uint8_t> rows_scratch, hwc_scratch, panel_scratch;
    uint8_t* rows = rows_scratch.get(static_cast<size_t>(pixels * ld));
    const uint8_t* image = x + n * d.c * d.h * d.w;
    const uint8_t* hwc = image;  // one channel: CHW is already HWC
    if (d.c > 1) {
      uint8_t* buffer = hwc_scratch.get(static_cast<size_t>(d.c * d.h * d.w));
      to_channels_last(image, d, buffer);
      hwc = buffer;
    }
    im2col_rows_hwc(hwc, d, static_cast<uint8_t>(args.x_zero), rows, ld);
    uint8_t* panels = panel_scratch.get(static_cast<size_t>(panel_count * groups * kNrVnni * kGroupVnni));
    rows_to_pixel_panels(rows, pixels, ld, groups, panels);
    QuantOutputStage image_out = out;
    image_out.y = static_cast<char*>(out.y) + static_cast<size_t>(n * d.o * pixels) * y_esize;
    const PixelConv pc{w.get(), corr.data(), &image_out, panels, pixels};
#pragma omp parallel for schedule(static) if (by_tile)
    for (int64_t item = 0; item < items; ++item) pixel_tile(pc, item / panel_count, item % panel_count);
  }
}

}  // namespace

bool qconv2d_blocked_supports(const QConv2dArgs& args) {
  return qconv2d_cpu_supports(args) && qgemm_blocked_isa() != QGemmIsa::automatic;
}

void qconv2d_blocked_run(const QConv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const int64_t pixels = d.out_pixels(), patch = d.patch();
  if (d.n == 0 || d.o == 0 || pixels == 0) return;
  if (qgemm_blocked_isa() == QGemmIsa::avx512_vnni) {
    qconv2d_vnni_pixels(args, d);
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
#pragma omp parallel for schedule(static) if (by_image)
  for (int64_t n = 0; n < d.n; ++n) {
    static thread_local ScratchBuffer<uint8_t> rows_scratch, hwc_scratch;
    uint8_t* rows = rows_scratch.get(static_cast<size_t>(pixels * ld));
    const uint8_t* image = x + n * d.c * d.h * d.w;
    const uint8_t* hwc = image;  // one channel: CHW is already HWC
    if (d.c > 1) {
      uint8_t* buffer = hwc_scratch.get(static_cast<size_t>(d.c * d.h * d.w));
      to_channels_last(image, d, buffer);
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
  }
}

}  // namespace tinyopt::cpu
