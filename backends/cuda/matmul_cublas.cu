// cuda.cublas matmul: NVIDIA's cublasSgemm, the top rung of the CUDA speedup
// ladder (the twin of backends/cpu/matmul_onednn.cpp).
//
// cuBLAS is column-major; our tensors are row-major. A row-major [R, C]
// matrix is, byte for byte, its column-major transpose [C, R], so instead of
// C = op(A) op(B) we ask cuBLAS for
//     C^T = op(B)^T op(A)^T       (an N x M column-major result = C row-major)
// passing B first and A second. No data is transposed or copied.
//   * B not transposed: stored [K, N] row-major = op(B)^T column-major, ld N -> CUBLAS_OP_N
//     B transposed:     stored [N, K] row-major = op(B)   column-major, ld K -> CUBLAS_OP_T
//   * A not transposed: stored [M, K] row-major = op(A)^T column-major, ld K -> CUBLAS_OP_N
//     A transposed:     stored [K, M] row-major = op(A)   column-major, ld M -> CUBLAS_OP_T
// The handle's math mode is the default (true FP32, no TF32), see cuda_runtime.cu.
#include <climits>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace tinyopt::cuda {

void matmul_cublas_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                       bool trans_b, int device) {
  if (m == 0 || n == 0) return;  // empty output
  set_device(device);
  if (k == 0) {
    // An empty sum: C is all zeros. (cuBLAS would also reject the zero
    // leading dimensions a K of 0 implies.)
    CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<size_t>(m * n) * sizeof(float), nullptr));
    return;
  }
  TINYOPT_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX,
                "cuda.cublas matmul: M={}, N={}, K={} exceed cublasSgemm's 32-bit sizes", m, n, k);
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const float alpha = 1.0f, beta = 0.0f;
  CUBLAS_CHECK(cublasSgemm(cublas_handle(device), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                           trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, ni, mi, ki, &alpha, b, trans_b ? ki : ni, a,
                           trans_a ? mi : ki, &beta, c, ni));
}

bool matmul_cublas_supports(const MatmulArgs& args) {
  return all_contiguous_f32(args) && args.m() <= INT_MAX && args.n() <= INT_MAX && args.k() <= INT_MAX;
}

void matmul_cublas_run(const MatmulArgs& args) {
  matmul_cublas_f32(args.a.data<float>(), args.b.data<float>(), args.c.data<float>(), args.m(), args.n(), args.k(),
                    args.trans_a, args.trans_b, args.c.device().index);
}

}  // namespace tinyopt::cuda
