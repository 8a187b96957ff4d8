// The CUDA backend's INT8 function tables (called from register_cuda.cpp).
// Priorities: library (cuBLASLt) > naive. qconv2d has only the naive variant.
#include "backends/cuda/cuda_kernels_quant.h"

namespace tinyopt::cuda {

void register_cuda_quant_variants() {
  const DeviceType gpu = DeviceType::cuda;
  ops::qgemm.add({"cuda.naive", gpu, 10, qgemm_cuda_supports, qgemm_naive_run});
  ops::qgemm.add({"cuda.cublas", gpu, 60, qgemm_cublas_supports, qgemm_cublas_run});
  ops::qconv2d.add({"cuda.naive", gpu, 10, qconv2d_cuda_supports, qconv2d_naive_run});
  ops::quantize.add({"cuda.naive", gpu, 50, quantize_supports, quantize_run});
  ops::dequantize.add({"cuda.naive", gpu, 50, dequantize_supports, dequantize_run});
}

}  // namespace tinyopt::cuda
