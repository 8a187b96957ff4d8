// Shared by every CUDA file of the backend: error checking that turns CUDA and
// cuBLAS failures into tinyopt::Error (naming the failed call and CUDA's own
// message), the current-device guard, launch-size helpers and the per-device
// cuBLAS handle. Only .cu files include this header (it pulls in the CUDA
// headers); plain C++ code uses cuda_kernels.h.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "core/error.h"

namespace tinyopt::cuda {

// Throws "CUDA error in <call> at <file>:<line>: <name>: <message>". The error
// is cleared first so that a non-sticky failure (a bad launch configuration,
// an out-of-memory) does not resurface from the next unrelated call.
inline void cuda_check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();
  fail("CUDA error in {} at {}:{}: {}: {}", call, file, line, cudaGetErrorName(status), cudaGetErrorString(status));
}

inline void cublas_check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail("cuBLAS error in {} at {}:{}: {}", call, file, line, cublasGetStatusString(status));
}

}  // namespace tinyopt::cuda

// CUDA_CHECK(cudaMemcpy(...)): throws tinyopt::Error when the call fails.
#define CUDA_CHECK(call) ::tinyopt::cuda::cuda_check((call), #call, __FILE__, __LINE__)
// CUBLAS_CHECK(cublasSgemm(...)): same for cuBLAS status codes.
#define CUBLAS_CHECK(call) ::tinyopt::cuda::cublas_check((call), #call, __FILE__, __LINE__)
// After a <<<...>>> launch: a bad configuration (too many threads, too much
// shared memory, no kernel image for this GPU) is reported here, naming the kernel.
#define CUDA_CHECK_LAUNCH(kernel_name) \
  ::tinyopt::cuda::cuda_check(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)

namespace tinyopt::cuda {

// Makes `device` current for this host thread (cheap when it already is).
// Every run() calls it with its tensors' device index before launching.
inline void set_device(int device) { CUDA_CHECK(cudaSetDevice(device)); }

// Blocks for a 1-D grid-stride loop over n elements. Capped so the grid stays
// far below gridDim.x's limit; each thread then walks several elements.
inline unsigned int grid_size_1d(int64_t n, int threads_per_block) {
  const int64_t blocks = (n + threads_per_block - 1) / threads_per_block;
  constexpr int64_t max_blocks = int64_t{1} << 20;
  return static_cast<unsigned int>(blocks < max_blocks ? blocks : max_blocks);
}

// gridDim.y and gridDim.z are limited to 65535; kernels that put rows on y
// loop over the rest (grid-stride) so any M works.
constexpr unsigned int kMaxGridY = 65535;

// The cuBLAS handle of one device, created on first use (once per device,
// thread-safe) with that device current. Handles live until process exit on
// purpose: destroying them from a static destructor can run after the CUDA
// runtime has already been torn down.
cublasHandle_t cublas_handle(int device);

}  // namespace tinyopt::cuda
