// cpu.blocked conv2d_backward: the backward pass as GEMMs on im2col matrices,
// using our blocked GEMM (matmul_blocked_f32). Per image n, with
// col = im2col(x[n]) [C*KH*KW, OH*OW] and dY = dy[n] viewed as [O, OH*OW]:
//
//   dW   (O x CKK)   += dY * col^T          (a GEMM of depth OH*OW)
//   db   (O)         += dY * ones           (folded into the same GEMM, below)
//   dcol (CKK x P)    = W^T * dY, then dx[n] = col2im(dcol)   (depth O)
//
// Shape of the weight-gradient GEMM: it is computed transposed,
// [dW^T; db^T] ((CKK+1) x O) = [col; ones] (CKK+1 x P) * dY^T (P x O).
//  - The GEMM's register tile is wide in N and short in M, so O (16..64 in
//    CNNs) goes on N and the patch on M: far fewer idle lanes on edge tiles
//    than the other way round when the patch is short (the CNN's first layer
//    has CKK = 9).
//  - A row of ones appended to col makes the GEMM produce db as its last row:
//    the bias gradient costs one more row of an existing tile instead of a
//    separate pass over dy.
//  - dY^T is formed by an explicit (4x4 SSE-tiled) transpose, O*P floats,
//    cheap next to the GEMM's O*P*CKK multiply-adds, rather than by asking the
//    GEMM for a transposed B: packing a transposed B writes one column at a
//    time and cost more than the multiply-adds themselves on the first layer.
// A 1x1 stride-1 unpadded conv needs no im2col for dx (dx[n] is dcol); its
// weight GEMM reads x[n] in place unless db needs the ones row appended.
//
// Threads (OpenMP), as in the forward pass: with an image per thread, each
// thread takes whole images, runs single-threaded GEMMs and sums [dW^T; db^T]
// into its own partial buffer; the partials are then added in thread order
// (deterministic for a given thread count). dx[n] belongs to one image, so it
// needs no reduction. With fewer images than threads the GEMMs are threaded.
#include <emmintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/im2col.h"
#include "backends/cpu/scratch_buffer.h"

namespace tinyopt::cpu {

namespace {

// dst[cols, rows] = src[rows, cols]^T. 4x4 blocks are transposed in SSE
// registers (baseline x86-64, so no run-time dispatch); blocks are visited in
// 16x16 tiles so both the reads and the writes stay within a few cache lines.
void transpose_f32(const float* src, int64_t rows, int64_t cols, float* dst) {
  constexpr int64_t kTile = 16;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      int64_t r = r0;
      for (; r + 4 <= r1; r += 4) {
        int64_t c = c0;
        for (; c + 4 <= c1; c += 4) {
          __m128 a = _mm_loadu_ps(src + r * cols + c), b = _mm_loadu_ps(src + (r + 1) * cols + c);
          __m128 e = _mm_loadu_ps(src + (r + 2) * cols + c), f = _mm_loadu_ps(src + (r + 3) * cols + c);
          _MM_TRANSPOSE4_PS(a, b, e, f);
          _mm_storeu_ps(dst + c * rows + r, a);
          _mm_storeu_ps(dst + (c + 1) * rows + r, b);
          _mm_storeu_ps(dst + (c + 2) * rows + r, e);
          _mm_storeu_ps(dst + (c + 3) * rows + r, f);
        }
        for (; c < c1; ++c)
          for (int64_t i = r; i < r + 4; ++i) dst[c * rows + i] = src[i * cols + c];
      }
      for (; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
    }
  }
}

}  // namespace

void conv2d_backward_blocked_run(const Conv2dBackwardArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const float* x = args.x.data<float>();
  const float* w = args.w.data<float>();
  const float* dy = args.dy.data<float>();
  float* dx = args.dx.defined() ? args.dx.data<float>() : nullptr;
  float* dw = args.dw.data<float>();
  float* db = args.db.defined() ? args.db.data<float>() : nullptr;
  const int64_t patch = d.patch(), pixels = d.out_pixels(), image = d.c * d.in_pixels();
  const bool pointwise = d.is_pointwise();
  // Rows of the weight-gradient GEMM: the patch, plus the ones row when db is wanted.
  const int64_t rows = patch + (db ? 1 : 0);
  const int64_t partial_size = rows * d.o;
  // x[n] can serve as col in place only when nothing must be appended to it.
  const bool col_in_place = pointwise && !db;

  const int threads = omp_get_max_threads();
  const double flops = 2.0 * double(d.n) * d.o * pixels * double(patch) * (dx ? 2.0 : 1.0);
  const bool by_image = threads > 1 && d.n >= threads && flops >= 2.0e6;

  // Per-thread partial sums [dW^T; db^T], owned by the calling thread so the
  // reduction below can read all of them.
  static thread_local ScratchFloats partial_scratch;
  float* partials = partial_scratch.get(static_cast<size_t>((by_image ? threads : 1) * partial_size));
  int team = 1;

  // The body runs in a team when by_image, else on this thread alone, outside
  // any OpenMP region, so that its GEMMs can thread themselves without being
  // nested (see parallel_for.h); `single` and `for` bind to whichever applies.
  const auto images = [&] {
#pragma omp single
    team = omp_get_num_threads();  // the single's barrier publishes it
    float* my_partial = partials + omp_get_thread_num() * partial_size;

    // Per thread: [col; ones] (rows x P), dcol (patch x P), dY^T (P x O), one image's partial.
    static thread_local ScratchFloats col_scratch, dcol_scratch, dyt_scratch, image_scratch;
    float* col = col_in_place ? nullptr : col_scratch.get(static_cast<size_t>(rows * pixels));
    if (db) std::fill(col + patch * pixels, col + rows * pixels, 1.0f);
    float* dcol = dx && !pointwise ? dcol_scratch.get(static_cast<size_t>(patch * pixels)) : nullptr;
    float* dyt = dyt_scratch.get(static_cast<size_t>(pixels * d.o));
    float* image_partial = image_scratch.get(static_cast<size_t>(partial_size));
    bool first = true;

#pragma omp for schedule(static)
    for (int64_t n = 0; n < d.n; ++n) {
      const float* xn = x + n * image;
      const float* dyn = dy + n * d.o * pixels;
      if (pointwise && !col_in_place) {
        std::memcpy(col, xn, static_cast<size_t>(image) * sizeof(float));
      } else if (!pointwise) {
        im2col_f32(xn, d, col);
      }
      transpose_f32(dyn, d.o, pixels, dyt);
      // The thread's first image writes its partial directly; later ones add to it.
      matmul_blocked_f32(col_in_place ? xn : col, dyt, first ? my_partial : image_partial, rows, d.o, pixels, false,
                         false);
      if (!first) {
#pragma omp simd
        for (int64_t i = 0; i < partial_size; ++i) my_partial[i] += image_partial[i];
      }
      first = false;
      if (dx) {
        float* dxn = dx + n * image;
        // dcol (patch x P) = W^T (W stored [O, patch], read transposed) * dY (O x P).
        if (pointwise) {
          matmul_blocked_f32(w, dyn, dxn, patch, pixels, d.o, true, false);
        } else {
          matmul_blocked_f32(w, dyn, dcol, patch, pixels, d.o, true, false);
          std::fill(dxn, dxn + image, 0.0f);
          col2im_add_f32(dcol, d, dxn);
        }
      }
    }
    if (first) std::fill(my_partial, my_partial + partial_size, 0.0f);  // this thread got no image
  };
  if (by_image) {
#pragma omp parallel
    images();
  } else {
    images();
  }

  // dw[o, q] = sum over threads of dW^T[q, o], db[o] of row `patch`, in thread order.
  for (int64_t o = 0; o < d.o; ++o) {
    for (int64_t q = 0; q < patch; ++q) {
      float sum = 0.0f;
      for (int t = 0; t < team; ++t) sum += partials[t * partial_size + q * d.o + o];
      dw[o * patch + q] = sum;
    }
    if (db) {
      float sum = 0.0f;
      for (int t = 0; t < team; ++t) sum += partials[t * partial_size + patch * d.o + o];
      db[o] = sum;
    }
  }
}

}  // namespace tinyopt::cpu
