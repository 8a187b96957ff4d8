// cpu.blocked conv2d: im2col + our blocked GEMM (matmul_blocked_f32), the
// middle rung of the conv2d ladder.
//
// Per image n:  y[n] (O x OH*OW) = w (O x C*KH*KW) * col (C*KH*KW x OH*OW)
// with col = im2col(x[n]) (see im2col.h). Both w (OIHW) and y[n] (NCHW) are
// already the row-major matrices the GEMM wants, so only the input is
// rearranged, and for a 1x1 stride-1 unpadded conv not even that: x[n] viewed
// as [C, H*W] *is* col.
//
// Why per image and not one batched GEMM over [C*KH*KW, N*OH*OW]: the batched
// col matrix is KH*KW times the batch's input (9 MB for the CNN's second layer
// at batch 64) and would leave the caches between im2col and the GEMM, and
// y would come out as [O, N*OH*OW] and need a transpose back to NCHW. One
// image's col (~140 KB there) stays in L2 from im2col to packing.
//
// Threads (OpenMP): with at least as many images as threads, each thread
// takes whole images and runs its GEMMs single-threaded (nested regions are
// inactive), so no thread ever waits on another. With fewer images (batch-1
// inference) the image loop runs on one thread and the GEMM itself is threaded.
#include <omp.h>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/im2col.h"
#include "backends/cpu/parallel_for.h"
#include "backends/cpu/scratch_buffer.h"

namespace tinyopt::cpu {

void conv2d_blocked_run(const Conv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const float* x = args.x.data<float>();
  const float* w = args.w.data<float>();
  const float* bias = args.bias.defined() ? args.bias.data<float>() : nullptr;
  float* y = args.y.data<float>();
  const int64_t patch = d.patch(), pixels = d.out_pixels(), image = d.c * d.in_pixels();
  if (d.n == 0 || d.o == 0 || pixels == 0) return;
  const bool pointwise = d.is_pointwise();

  // Thread over images only when there is an image per thread and enough work
  // (~2 MFLOP) to pay for waking the team.
  const int threads = omp_get_max_threads();
  const double flops = 2.0 * double(d.n) * d.o * pixels * double(patch);
  const bool by_image = threads > 1 && d.n >= threads && flops >= 2.0e6;

  parallel_for_if(by_image, d.n, [&](int64_t n) {
    static thread_local ScratchFloats col_scratch;
    float* col = pointwise ? nullptr : col_scratch.get(static_cast<size_t>(patch * pixels));
    const float* xn = x + n * image;
    if (!pointwise) im2col_f32(xn, d, col);
    float* yn = y + n * d.o * pixels;
    matmul_blocked_f32(w, pointwise ? xn : col, yn, d.o, pixels, patch, false, false);
    if (bias) {
      // Added while y[n] is still in cache from the GEMM's stores.
      for (int64_t o = 0; o < d.o; ++o) {
        float* row = yn + o * pixels;
        const float b = bias[o];
#pragma omp simd
        for (int64_t p = 0; p < pixels; ++p) row[p] += b;
      }
    }
  });
}

}  // namespace tinyopt::cpu
