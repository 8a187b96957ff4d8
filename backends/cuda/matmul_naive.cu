// cuda.naive matmul: one thread per output element, the first rung of the
// CUDA speedup ladder (the twin of backends/cpu/matmul_naive.cpp).
//
// Thread (x, y) of the grid computes C[row = y][col = x] with a K-long dot
// product read straight from global memory. threadIdx.x runs along a row of C,
// so the 32 threads of a warp share `row`: their reads of A hit one address
// (a broadcast), their reads of B (not transposed) and their writes of C are
// 32 consecutive floats (coalesced). Nothing is reused through shared memory,
// so every FMA costs two global loads (mostly L1/L2 hits): memory-bound, a few
// percent of peak. matmul_tiled.cu fixes exactly that.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace tinyopt::cuda {

namespace {

constexpr int kBlockX = 32;  // one warp along a row of C
constexpr int kBlockY = 8;

__global__ void matmul_naive_kernel(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                                    bool trans_a, bool trans_b) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= n) return;
  // Rows beyond the grid's y extent (M > 65535 * kBlockY) are covered by striding.
  for (int64_t row = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; row < m;
       row += static_cast<int64_t>(gridDim.y) * blockDim.y) {
    float sum = 0.0f;
    for (int64_t p = 0; p < k; ++p) {
      const float av = trans_a ? a[p * m + row] : a[row * k + p];
      const float bv = trans_b ? b[col * k + p] : b[p * n + col];
      sum += av * bv;
    }
    c[row * n + col] = sum;
  }
}

}  // namespace

void matmul_naive_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b) {
  if (m == 0 || n == 0) return;  // empty output: nothing to launch (a zero-sized grid is an error)
  const dim3 block(kBlockX, kBlockY);
  const int64_t blocks_y = (m + kBlockY - 1) / kBlockY;
  const dim3 grid(static_cast<unsigned int>((n + kBlockX - 1) / kBlockX),
                  static_cast<unsigned int>(blocks_y < kMaxGridY ? blocks_y : kMaxGridY));
  matmul_naive_kernel<<<grid, block>>>(a, b, c, m, n, k, trans_a, trans_b);
  CUDA_CHECK_LAUNCH("matmul_naive_kernel");
}

bool all_contiguous_f32(const MatmulArgs& args) {
  return args.a.dtype() == DType::f32 && args.b.dtype() == DType::f32 && args.c.dtype() == DType::f32 &&
         args.a.is_contiguous() && args.b.is_contiguous() && args.c.is_contiguous() && args.c.device().is_cuda();
}

bool matmul_naive_supports(const MatmulArgs& args) { return all_contiguous_f32(args); }

void matmul_naive_run(const MatmulArgs& args) {
  set_device(args.c.device().index);
  matmul_naive_f32(args.a.data<float>(), args.b.data<float>(), args.c.data<float>(), args.m(), args.n(), args.k(),
                   args.trans_a, args.trans_b);
}

}  // namespace tinyopt::cuda
