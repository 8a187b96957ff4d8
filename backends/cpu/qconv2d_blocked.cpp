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
// Threads: with at least one image per thread each thread takes whole images
// (own buffers, single-threaded GEMM), as conv2d_blocked does; batch-1
// inference threads the GEMM instead.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/qgemm_blocked.h"
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
      for (int64_t i = 0; i < d.kh; ++i) {
        const int64_t ih = oh * d.stride_h - d.pad_h + i;
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

}  // namespace

bool qconv2d_blocked_supports(const QConv2dArgs& args) {
  return qconv2d_cpu_supports(args) && qgemm_blocked_isa() != QGemmIsa::automatic;
}

void qconv2d_blocked_run(const QConv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const int64_t pixels = d.out_pixels(), patch = d.patch();
  if (d.n == 0 || d.o == 0 || pixels == 0) return;
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
