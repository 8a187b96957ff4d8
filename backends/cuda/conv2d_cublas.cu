// cuda.cublas conv2d: im2col + one cuBLAS GEMM per batch chunk, the top rung
// of the CUDA conv2d ladder (the twin of backends/cpu/conv2d_blocked.cpp's
// im2col + GEMM formulation).
//
// For every image, y[n] (O x P, P = OH*OW) = w (O x C*KH*KW) * col[n]
// (C*KH*KW x P), where col[n]'s row (c, i, j) holds the input pixel each output
// position reads through tap (i, j) of channel c (0 where it falls in the
// padding). Steps:
//   1. im2col kernel: one thread per col element, output pixel fastest, so a
//      warp writes 32 consecutive floats; the columns of a chunk of images go
//      into the per-device scratch buffer (cuda_scratch.cuh), capped at
//      kMaxColBytes so a large batch is processed in several chunks.
//      A pointwise conv (1x1, stride 1, no padding) skips it: x[n] is col[n].
//   2. cublasSgemmStridedBatched over the chunk's images with the weights
//      shared (stride 0). Row-major y = w * col is column-major
//      y^T (P x O) = col^T (P x K) * w^T (K x O), so col goes first with
//      ld P and w second with ld K, neither transposed (the trick of
//      matmul_cublas.cu). True FP32 (the handle's default math mode).
//   3. bias kernel: y[n, o, :] += bias[o] over the whole output.
#include <climits>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "backends/cuda/cuda_scratch.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;
constexpr size_t kMaxColBytes = size_t{256} << 20;  // 256 MiB of im2col per chunk (at least one image)

// col [images, C*KH*KW, OH*OW] for images [n0, n0 + images).
__global__ void im2col_f32_kernel(const float* __restrict__ x, float* __restrict__ col, kernels::Conv2dDims d,
                                  int64_t n0, int64_t images) {
  const int64_t pixels = d.oh * d.ow;
  const int64_t patch = d.c * d.kh * d.kw;
  const int64_t total = images * patch * pixels;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t p = idx % pixels;
    const int64_t row = (idx / pixels) % patch;
    const int64_t n = n0 + idx / (pixels * patch);
    const int64_t j = row % d.kw, i = (row / d.kw) % d.kh, c = row / (d.kw * d.kh);
    const int64_t ih = (p / d.ow) * d.stride_h - d.pad_h + i;
    const int64_t iw = (p % d.ow) * d.stride_w - d.pad_w + j;
    float v = 0.0f;
    if (ih >= 0 && ih < d.h && iw >= 0 && iw < d.w) v = x[((n * d.c + c) * d.h + ih) * d.w + iw];
    col[idx] = v;
  }
}

// y [N, O, P] += bias[o].
__global__ void conv2d_bias_f32_kernel(float* __restrict__ y, const float* __restrict__ bias, int64_t total,
                                       int64_t o, int64_t pixels) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step)
    y[idx] += bias[(idx / pixels) % o];
}

bool fits_int(int64_t v) { return v <= INT_MAX; }

}  // namespace

bool conv2d_cublas_supports(const Conv2dArgs& args) {
  if (!conv2d_cuda_supports(args)) return false;
  const kernels::Conv2dDims d = conv2d_cuda_dims(args);
  // cuBLAS takes 32-bit sizes and leading dimensions.
  return fits_int(d.patch()) && fits_int(d.out_pixels()) && fits_int(d.o) && fits_int(d.n) &&
         fits_int(d.patch() * d.out_pixels()) && fits_int(d.o * d.out_pixels());
}

void conv2d_cublas_run(const Conv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_cuda_dims(args);
  if (args.y.numel() == 0) return;
  const int device = args.y.device().index;
  set_device(device);
  const float* x = args.x.data<float>();
  const float* w = args.w.data<float>();
  float* y = args.y.data<float>();
  const int64_t patch = d.patch(), pixels = d.out_pixels();
  TINYOPT_CHECK(fits_int(patch) && fits_int(pixels) && fits_int(d.o) && fits_int(patch * pixels) &&
                    fits_int(d.o * pixels),
                "cuda.cublas conv2d: {} exceeds cuBLAS's 32-bit sizes", args.describe());

  if (patch == 0) {
    // No input channels: an empty sum (cuBLAS would reject the zero leading dimension).
    CUDA_CHECK(cudaMemsetAsync(y, 0, args.y.nbytes(), nullptr));
  } else {
    const bool pointwise = d.is_pointwise();
    const size_t image_col_bytes = static_cast<size_t>(patch * pixels) * sizeof(float);
    int64_t chunk = pointwise ? d.n : static_cast<int64_t>(kMaxColBytes / image_col_bytes);
    if (chunk < 1) chunk = 1;
    if (chunk > d.n) chunk = d.n;
    if (chunk > INT_MAX) chunk = INT_MAX;
    // The lease is held for every chunk: the GEMM of one chunk must read its
    // columns before the next im2col overwrites them (same stream, so in order).
    ScratchLease scratch(device, pointwise ? 0 : static_cast<size_t>(chunk) * image_col_bytes);
    float* col = scratch.as<float>();
    cublasHandle_t handle = cublas_handle(device);
    const float alpha = 1.0f, beta = 0.0f;
    for (int64_t n0 = 0; n0 < d.n; n0 += chunk) {
      const int64_t images = chunk < d.n - n0 ? chunk : d.n - n0;
      const float* a = nullptr;
      if (pointwise) {
        a = x + n0 * patch * pixels;  // x[n] is [C, H*W] = col[n] already
      } else {
        const int64_t total = images * patch * pixels;
        im2col_f32_kernel<<<grid_size_1d(total, kThreadsPerBlock), kThreadsPerBlock>>>(x, col, d, n0, images);
        CUDA_CHECK_LAUNCH("im2col_f32_kernel");
        a = col;
      }
      const int pi = static_cast<int>(pixels), oi = static_cast<int>(d.o), ki = static_cast<int>(patch);
      CUBLAS_CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, pi, oi, ki, &alpha, a, pi,
                                             static_cast<long long>(patch * pixels), w, ki, 0, &beta,
                                             y + n0 * d.o * pixels, pi, static_cast<long long>(d.o * pixels),
                                             static_cast<int>(images)));
    }
  }
  if (args.bias.defined()) {
    const int64_t total = args.y.numel();
    conv2d_bias_f32_kernel<<<grid_size_1d(total, kThreadsPerBlock), kThreadsPerBlock>>>(y, args.bias.data<float>(),
                                                                                        total, d.o, pixels);
    CUDA_CHECK_LAUNCH("conv2d_bias_f32_kernel");
  }
}

}  // namespace tinyopt::cuda
