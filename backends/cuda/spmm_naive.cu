// cuda.naive spmm: one thread per output y[i, r] walks CSR row r of W and
// gathers x[i, col]. The twin of backends/cpu/spmm_naive.cpp and the bottom
// rung of the CUDA sparse ladder: consecutive threads take consecutive rows r,
// so the writes of y are coalesced; the CSR reads are not (each thread walks
// its own row), which is what cuSPARSE's kernels improve on.
#include <climits>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_sparse.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 128;

template <class Index>
__global__ void spmm_naive_kernel(const float* __restrict__ x, const Index* __restrict__ row_ptr,
                                  const int32_t* __restrict__ col_idx, const float* __restrict__ values,
                                  const float* __restrict__ bias, float* __restrict__ y, int64_t m, int64_t n,
                                  int64_t k) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n) return;
  const int64_t begin = static_cast<int64_t>(row_ptr[r]), end = static_cast<int64_t>(row_ptr[r + 1]);
  for (int64_t i = blockIdx.y; i < m; i += gridDim.y) {  // grid-stride over the batch
    const float* xi = x + i * k;
    float acc = bias ? bias[r] : 0.0f;
    for (int64_t j = begin; j < end; ++j) acc += values[j] * xi[col_idx[j]];
    y[i * n + r] = acc;
  }
}

}  // namespace

bool spmm_naive_supports(const SpmmArgs& a) {
  bool ok = a.x.device().is_cuda();
  const_cast<SpmmArgs&>(a).visit([&](Tensor& t, bool) { ok = ok && t.is_contiguous(); });
  return ok;
}

void spmm_naive_run(const SpmmArgs& a) {
  const int64_t m = a.m(), n = a.n(), k = a.k();
  if (m == 0 || n == 0) return;
  set_device(a.y.device().index);
  const dim3 grid(static_cast<unsigned int>((n + kThreadsPerBlock - 1) / kThreadsPerBlock),
                  static_cast<unsigned int>(m < kMaxGridY ? m : kMaxGridY));
  const float* bias = a.bias.defined() ? a.bias.data<float>() : nullptr;
  if (a.row_ptr.dtype() == DType::i32) {
    spmm_naive_kernel<<<grid, kThreadsPerBlock>>>(a.x.data<float>(), a.row_ptr.data<int32_t>(),
                                                  a.col_idx.data<int32_t>(), a.values.data<float>(), bias,
                                                  a.y.data<float>(), m, n, k);
  } else {
    spmm_naive_kernel<<<grid, kThreadsPerBlock>>>(a.x.data<float>(), a.row_ptr.data<int64_t>(),
                                                  a.col_idx.data<int32_t>(), a.values.data<float>(), bias,
                                                  a.y.data<float>(), m, n, k);
  }
  CUDA_CHECK_LAUNCH("spmm_naive_kernel");
}

}  // namespace tinyopt::cuda
