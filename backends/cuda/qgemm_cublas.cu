// cuda.cublas qgemm: cuBLASLt's int8 GEMM (s8 x s8 -> i32, CUBLAS_COMPUTE_32I)
// for the accumulators, then one small epilogue kernel for the zero point,
// the bias and the output stage.
//
// cuBLASLt has no u8 x s8 form, so the activations are first rewritten as
// a - 128 (s8, the top bit flipped) into scratch, and the epilogue adds back
//   (128 - a_zero) * sum_k w[n, k] + bias[n]
// (the column sums come from a tiny kernel on the same stream). In
// cuBLASLt's column-major terms, row-major y[M, N] is y^T = w (as [K, N]
// col-major, transposed) x a^T ([K, M] col-major): the "TN" layout its int8
// kernels require. They also require K and the leading dimensions to be
// multiples of 4 and 4-byte aligned pointers; supports() declines other shapes
// (the dispatcher then routes to cuda.naive).
#include <cublasLt.h>

#include <mutex>
#include <vector>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_quant.h"
#include "backends/cuda/cuda_scratch.cuh"
#include "backends/cuda/quant_output.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreads = 256;

void cublaslt_check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) fail("cuBLASLt error in {}: {}", call, cublasGetStatusString(status));
}
#define CUBLASLT_CHECK(call) cublaslt_check((call), #call)

cublasLtHandle_t cublaslt_handle(int device) {
  static std::mutex mutex;
  static std::vector<cublasLtHandle_t> handles;
  std::lock_guard<std::mutex> lock(mutex);
  if (handles.empty()) handles.assign(static_cast<size_t>(device_count()), nullptr);
  TINYOPT_CHECK(device >= 0 && static_cast<size_t>(device) < handles.size(), "cuBLASLt handle for cuda:{} requested",
                device);
  cublasLtHandle_t& handle = handles[static_cast<size_t>(device)];
  if (handle == nullptr) {
    set_device(device);
    CUBLASLT_CHECK(cublasLtCreate(&handle));  // kept until exit, like the cuBLAS handles
  }
  return handle;
}

__global__ void flip_to_s8_kernel(const uint8_t* a, int8_t* out, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = static_cast<int8_t>(a[i] ^ 0x80);
}

__global__ void col_sums_kernel(const int8_t* w, int32_t* sums, int64_t n, int64_t k) {
  for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < n;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int32_t s = 0;
    for (int64_t p = 0; p < k; ++p) s += w[j * k + p];
    sums[j] = s;
  }
}

__global__ void epilogue_kernel(const int32_t* acc, const int32_t* sums, const int32_t* bias, QuantOutputDevice out,
                                int64_t m, int64_t n, int32_t a_zero) {
  const int64_t total = m * n;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t col = i % n;
    out.store(acc[i] + (128 - a_zero) * sums[col] + (bias ? bias[col] : 0), col, i);
  }
}

bool aligned4(const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()) % 4 == 0; }

}  // namespace

bool qgemm_cublas_supports(const QGemmArgs& args) {
  return qgemm_cuda_supports(args) && args.m() > 0 && args.n() > 0 && args.k() > 0 && args.k() % 4 == 0 &&
         args.n() % 4 == 0 && aligned4(args.a) && aligned4(args.w);
}

void qgemm_cublas_run(const QGemmArgs& args) {
  const int64_t m = args.m(), n = args.n(), k = args.k();
  const int device = args.y.device().index;
  const size_t a_bytes = scratch_align(static_cast<size_t>(m * k));
  const size_t acc_bytes = scratch_align(static_cast<size_t>(m * n) * 4);
  const size_t sums_bytes = scratch_align(static_cast<size_t>(n) * 4);
  ScratchLease scratch(device, a_bytes + acc_bytes + sums_bytes);
  int8_t* a_s8 = scratch.as<int8_t>();
  int32_t* acc = scratch.as<int32_t>(a_bytes);
  int32_t* sums = scratch.as<int32_t>(a_bytes + acc_bytes);

  flip_to_s8_kernel<<<grid_size_1d(m * k, kThreads), kThreads>>>(args.a.data<uint8_t>(), a_s8, m * k);
  CUDA_CHECK_LAUNCH("flip_to_s8_kernel");
  col_sums_kernel<<<grid_size_1d(n, kThreads), kThreads>>>(args.w.data<int8_t>(), sums, n, k);
  CUDA_CHECK_LAUNCH("col_sums_kernel");

  // acc^T [N, M] (col-major, ld N) = w^T (w stored [K, N] col-major, ld K, transposed) x a_s8 ([K, M], ld K).
  cublasLtHandle_t handle = cublaslt_handle(device);
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t w_layout = nullptr, a_layout = nullptr, c_layout = nullptr;
  CUBLASLT_CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32I, CUDA_R_32I));
  const cublasOperation_t trans = CUBLAS_OP_T;
  CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof(trans)));
  CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&w_layout, CUDA_R_8I, static_cast<uint64_t>(k), static_cast<uint64_t>(n), k));
  CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&a_layout, CUDA_R_8I, static_cast<uint64_t>(k), static_cast<uint64_t>(m), k));
  CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&c_layout, CUDA_R_32I, static_cast<uint64_t>(n), static_cast<uint64_t>(m), n));
  const int32_t alpha = 1, beta = 0;
  const cublasStatus_t status = cublasLtMatmul(handle, desc, &alpha, args.w.data<int8_t>(), w_layout, a_s8, a_layout,
                                               &beta, acc, c_layout, acc, c_layout, nullptr, nullptr, 0, nullptr);
  cublasLtMatrixLayoutDestroy(c_layout);
  cublasLtMatrixLayoutDestroy(a_layout);
  cublasLtMatrixLayoutDestroy(w_layout);
  cublasLtMatmulDescDestroy(desc);
  CUBLASLT_CHECK(status);

  epilogue_kernel<<<grid_size_1d(m * n, kThreads), kThreads>>>(
      acc, sums, args.bias.defined() ? args.bias.data<int32_t>() : nullptr, QuantOutputDevice::of(args.out, args.y),
      m, n, args.a_zero);
  CUDA_CHECK_LAUNCH("epilogue_kernel (qgemm)");
}

}  // namespace tinyopt::cuda
