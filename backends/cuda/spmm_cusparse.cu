// cuda.cusparse spmm: NVIDIA's cuSPARSE generic SpMM (cusparseSpMM), the top
// rung of the CUDA sparse ladder (the twin of backends/cpu/spmm_blocked.cpp).
//
// cuSPARSE computes C = alpha op(A) op(B) + beta C with A sparse. We want
// y[M, N] = x[M, K] W^T + bias with W [N, K] in CSR. Row-major x [M, K] is,
// byte for byte, the column-major K x M matrix x^T, and row-major y [M, N] is
// the column-major N x M matrix y^T. So A = W (CSR, N x K), B = x^T
// (column-major, ld K), C = y^T (column-major, ld N) and y^T = W x^T: no
// transposes and no copies. The bias is written into C first and added with
// beta = 1.
//
// cusparseSpMM wants the row offsets and the column indices of one index type,
// so this variant takes i32 row_ptr only (i64 calls go to cuda.naive).
#include <cusparse.h>

#include <climits>
#include <mutex>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_sparse.h"
#include "backends/cuda/cuda_scratch.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 256;
constexpr int kMaxDevices = 64;

void cusparse_check(cusparseStatus_t status, const char* call) {
  if (status != CUSPARSE_STATUS_SUCCESS) fail("cuSPARSE error {} ({}) in {}", int(status), cusparseGetErrorString(status), call);
}
#define CUSPARSE_CHECK(call) cusparse_check((call), #call)

// One handle per device, created on first use and kept until exit (like the
// cuBLAS handles, see cuda_common.cuh).
cusparseHandle_t cusparse_handle(int device) {
  static std::mutex mutex;
  static cusparseHandle_t handles[kMaxDevices] = {};
  TINYOPT_CHECK(device >= 0 && device < kMaxDevices, "cuda.cusparse: device index {} out of range", device);
  std::lock_guard<std::mutex> lock(mutex);
  if (handles[device] == nullptr) {
    set_device(device);
    CUSPARSE_CHECK(cusparseCreate(&handles[device]));
  }
  return handles[device];
}

// C (column-major N x M, i.e. y row-major) = bias broadcast, or zeros.
__global__ void fill_bias_kernel(float* y, const float* __restrict__ bias, int64_t total, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride)
    y[i] = bias ? bias[i % n] : 0.0f;
}

}  // namespace

bool spmm_cusparse_supports(const SpmmArgs& a) {
  bool ok = a.x.device().is_cuda() && a.row_ptr.dtype() == DType::i32;
  const_cast<SpmmArgs&>(a).visit([&](Tensor& t, bool) { ok = ok && t.is_contiguous(); });
  return ok && a.m() <= INT_MAX && a.n() <= INT_MAX && a.k() <= INT_MAX && a.nnz() <= INT_MAX;
}

void spmm_cusparse_run(const SpmmArgs& a) {
  const int64_t m = a.m(), n = a.n(), k = a.k(), nnz = a.nnz();
  if (m == 0 || n == 0) return;
  const int device = a.y.device().index;
  set_device(device);
  float* y = a.y.data<float>();
  const float* bias = a.bias.defined() ? a.bias.data<float>() : nullptr;
  fill_bias_kernel<<<grid_size_1d(m * n, kThreadsPerBlock), kThreadsPerBlock>>>(y, bias, m * n, n);
  CUDA_CHECK_LAUNCH("fill_bias_kernel");
  if (nnz == 0) return;  // nothing stored: y is the bias (or zeros)

  cusparseHandle_t handle = cusparse_handle(device);
  cusparseSpMatDescr_t w_desc = nullptr;
  cusparseDnMatDescr_t x_desc = nullptr, y_desc = nullptr;
  CUSPARSE_CHECK(cusparseCreateCsr(&w_desc, n, k, nnz, const_cast<int32_t*>(a.row_ptr.data<int32_t>()),
                                   const_cast<int32_t*>(a.col_idx.data<int32_t>()),
                                   const_cast<float*>(a.values.data<float>()), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
                                   CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
  CUSPARSE_CHECK(cusparseCreateDnMat(&x_desc, k, m, k, const_cast<float*>(a.x.data<float>()), CUDA_R_32F,
                                     CUSPARSE_ORDER_COL));
  CUSPARSE_CHECK(cusparseCreateDnMat(&y_desc, n, m, n, y, CUDA_R_32F, CUSPARSE_ORDER_COL));
  const float alpha = 1.0f, beta = 1.0f;
  size_t workspace = 0;
  CUSPARSE_CHECK(cusparseSpMM_bufferSize(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE,
                                         &alpha, w_desc, x_desc, &beta, y_desc, CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT,
                                         &workspace));
  {
    ScratchLease lease(device, workspace > 0 ? workspace : 1);
    CUSPARSE_CHECK(cusparseSpMM(handle, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
                                w_desc, x_desc, &beta, y_desc, CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT,
                                lease.as<void>()));
  }
  CUSPARSE_CHECK(cusparseDestroySpMat(w_desc));
  CUSPARSE_CHECK(cusparseDestroyDnMat(x_desc));
  CUSPARSE_CHECK(cusparseDestroyDnMat(y_desc));
}

}  // namespace tinyopt::cuda
