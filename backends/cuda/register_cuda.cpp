// The CUDA backend's function tables: installs the device runtime, then one
// line per kernel variant (the twin of backends/cpu/register_cpu.cpp).
// Priorities order automatic routing: library (cuBLAS) > our tiled kernel > naive.
//
// Safe without a GPU: registration touches no CUDA API. The variants are
// simply never routed to, because no CUDA tensor can be created
// (device_require() reports "no CUDA device is present").
#include "backends/cuda/cuda_kernels.h"

namespace tinyopt::cuda {

void register_cuda_variants() {
  install_device_runtime();
  const DeviceType gpu = DeviceType::cuda;
  ops::matmul.add({"cuda.naive", gpu, 10, matmul_naive_supports, matmul_naive_run});
  ops::matmul.add({"cuda.tiled", gpu, 50, matmul_tiled_supports, matmul_tiled_run});
  ops::matmul.add({"cuda.cublas", gpu, 60, matmul_cublas_supports, matmul_cublas_run});
  ops::add.add({"cuda.simt", gpu, 50, add_supports, add_run});
  ops::relu.add({"cuda.simt", gpu, 50, relu_supports, relu_run});
}

}  // namespace tinyopt::cuda
